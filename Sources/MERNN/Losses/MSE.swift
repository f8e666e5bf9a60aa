import MERTensor

extension Loss {
    /// Mean squared error, mean over all elements (PyTorch's `F.mse_loss`). The shapes must be
    /// equal: PyTorch broadcasts with a warning, which nearly always hides a bug such as
    /// (N, 1) against (N).
    public static func mse(_ input: Tensor, _ target: Tensor) throws -> Tensor {
        guard input.shape == target.shape else {
            throw TensorError("mse: input shape \(input.shape) and target shape \(target.shape) differ; reshape one of them")
        }
        guard input.count > 0 else { throw TensorError("mse: tensors are empty") }
        return try (input - target).square().mean()
    }
}
