"""Division and modulo by positive constants, on canonical sums.

These rules are what turn split and fused loop indices back into plain variables:

* multiples of the divisor leave the division:  (io*32 + ii) // 32 -> io + ii // 32
* bounds finish the job:                        ii // 32 -> 0,  ii % 32 -> ii   (0 <= ii < 32)
* a common factor with a small remainder:       (fo*4 + fi) // 32 -> fo // 8  (0 <= fi < 4)
* nesting:                                      (x // 4) // 8 -> x // 32,  (x % 32) % 8 -> x % 8
* and, in sums, the fused pattern:              (f // 8)*8 + f % 8 -> f

All rules use floor semantics, which are exact for every integer dividend; truncating division
reaches them only once the dividend is known to be non-negative.
"""

from __future__ import annotations

from math import gcd

from .const_bound import NEG_INF, POS_INF
from .sum_form import Sum


def floordiv(eng, s: Sum, c: int) -> Sum:
    """floor(s / c) for a constant c > 0."""
    if c == 1:
        return s
    q_terms, r_terms = {}, {}
    for m, a in s.terms.items():
        if a % c == 0:
            q_terms[m] = a // c
        else:
            r_terms[m] = a
    qc, rc = divmod(s.const, c)
    q = Sum(q_terms, qc, s.dtype)
    rest = _div_rest(eng, Sum(r_terms, rc, s.dtype), c)
    return q + rest if q.terms or q.const else rest


def _div_rest(eng, r: Sum, c: int) -> Sum:
    """floor(r / c) where no term of r has a coefficient divisible by c, and 0 <= r.const < c."""
    if not r.terms:
        return Sum.of_const(r.const // c, r.dtype)
    lo, hi = eng.bound_sum(r)
    if lo != NEG_INF and hi != POS_INF and lo // c == hi // c:
        return Sum.of_const(lo // c, r.dtype)
    split = _factor_split(eng, r, c)
    if split is not None:
        g, big, _ = split
        return floordiv(eng, big, c // g)
    aid = _single_atom_plus_const(r)
    if aid is not None:
        atom = eng.atoms[aid]
        if atom.kind == "fdiv":  # (x // d + k) // c == (x + k*d) // (d*c)
            x, d = atom.args
            return floordiv(eng, x.add_const(r.const * d), d * c)
    return Sum.of_atom(eng.fdiv_atom(r, c), r.dtype)


def floormod(eng, s: Sum, c: int) -> Sum:
    """s mod c (floor semantics, result in [0, c)) for a constant c > 0."""
    if c == 1:
        return Sum.of_const(0, s.dtype)
    s = _strip_inner_mods(eng, s, c)
    terms = {}
    for m, a in s.terms.items():
        a -= c * (abs(a) // c) * (1 if a > 0 else -1)  # keep the sign: -1 stays -1, not c-1
        if a:
            terms[m] = a
    r = Sum(terms, s.const % c, s.dtype)
    if not r.terms:
        return r
    lo, hi = eng.bound_sum(r)
    if lo != NEG_INF and hi != POS_INF and lo // c == hi // c:
        return r.add_const(-c * (lo // c))
    split = _factor_split(eng, r, c)
    if split is not None:
        g, big, small = split
        return floormod(eng, big, c // g).scale(g) + small
    return Sum.of_atom(eng.fmod_atom(r, c), r.dtype)


def _strip_inner_mods(eng, s: Sum, c: int) -> Sum:
    """(x % a) is congruent to x modulo c when c divides a, so inside `% c` it can be x."""
    out = None
    for m, a in s.terms.items():
        if len(m) == 1:
            atom = eng.atoms[m[0]]
            if atom.kind == "fmod" and atom.args[1] % c == 0:
                if out is None:
                    out = Sum(dict(s.terms), s.const, s.dtype)
                del out.terms[m]
                out = out + atom.args[0].scale(a)
    return s if out is None else out


def _single_atom_plus_const(r: Sum) -> int | None:
    if len(r.terms) == 1:
        (m, a), = r.terms.items()
        if a == 1 and len(m) == 1:
            return m[0]
    return None


def _factor_split(eng, r: Sum, c: int):
    """Write r = g*big + small with 1 < g < c, g | c and 0 <= small < g, if bounds allow.

    Then floor(r / c) == floor(big / (c/g)) and r mod c == g*(big mod c/g) + small.
    Candidates for g are the gcd of c with all coefficients (small is then just a constant),
    then with each coefficient, largest first.
    """
    cands = {gcd(c, r.coeff_gcd())}
    cands.update(gcd(c, a) for a in r.terms.values())
    for g in sorted(cands, reverse=True):
        if g <= 1 or g >= c:
            continue
        small, big = {}, {}
        for m, a in r.terms.items():
            if a % g:
                small[m] = a
            else:
                big[m] = a // g
        small_sum = Sum(small, r.const % g, r.dtype)
        if small:
            lo, hi = eng.bound_sum(small_sum)
            if lo < 0 or hi >= g:
                continue
        return g, Sum(big, r.const // g, r.dtype), small_sum
    return None


def merge_divmod(eng, s: Sum) -> Sum:
    """Fold `(x // c)*c*k + (x % c)*k` back into `x*k`, and `x*k - (x // c)*c*k` into `(x % c)*k`.

    Repeats until nothing merges, so multi-level fusions ((f//32)*32 + ((f//8)%4)*8 + f%8) unwind.
    """
    atoms = eng.atoms
    changed = True
    while changed:
        changed = False
        for mono, k in s.terms.items():
            if len(mono) != 1:
                continue
            atom = atoms[mono[0]]
            if atom.kind == "fmod":
                x, c = atom.args
                pid = eng.find_fdiv_atom(x, c)
                if pid is not None and s.terms.get((pid,)) == k * c:
                    terms = dict(s.terms)
                    del terms[mono], terms[(pid,)]
                    s = Sum(terms, s.const, s.dtype) + x.scale(k)
                    changed = True
                    break
            elif atom.kind == "fdiv":
                x, c = atom.args
                xa = x.single_atom()
                kx = s.terms.get((xa,)) if xa is not None else None
                if kx is not None and k == -c * kx:
                    terms = dict(s.terms)
                    del terms[mono], terms[(xa,)]
                    s = Sum(terms, s.const, s.dtype) + floormod(eng, x, c).scale(kx)
                    changed = True
                    break
    return s


def has_divmod(eng, s: Sum) -> bool:
    atoms = eng.atoms
    for mono in s.terms:
        if len(mono) == 1 and atoms[mono[0]].kind in ("fmod", "fdiv"):
            return True
    return False
