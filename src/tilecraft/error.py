"""Classic TVM's error classes (`tvm.error.TVMError`, also `tvm.TVMError`): classic tests catch
`TVMError` or `RuntimeError`, so tilecraft's own errors also derive from it."""


class TVMError(RuntimeError):
    """Base of the errors a classic TVM program can catch as `tvm.error.TVMError`."""
