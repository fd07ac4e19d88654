"""Classic `tvm.contrib.debugger`: the debug graph executor (debug_executor) and its dump (debug_result)."""
