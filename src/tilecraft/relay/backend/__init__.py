"""From a fused relay graph to kernels (te_compiler) and an executable graph (graph_codegen)."""
