"""Classic `tvm.ir.container` / `tvm.container`: tilecraft's IR holds plain Python containers, so
`Map` is dict and `Array` is list (and tuple, which IR nodes use), for isinstance checks."""

Map = dict
Array = (list, tuple)

__all__ = ["Array", "Map"]
