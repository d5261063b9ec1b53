"""C lowering: the kernel calls op files produce (CCall), their parameter structs and the DSP/MVE
weight layouts; what the C backend turns into model.c."""
