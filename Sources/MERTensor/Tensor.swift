import MERKernels
