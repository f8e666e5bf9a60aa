import MERTensor
