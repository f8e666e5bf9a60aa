import Foundation
import MERTensor

/// Learning-rate schedules (PyTorch's `torch.optim.lr_scheduler`). A schedule remembers the
/// optimiser's learning rate when created as the base, starts at epoch 0 and sets
/// `optimizer.lr` from a closed form of the epoch at creation and at each `step()` (call it
/// once per epoch, after the optimiser's steps, as in PyTorch). Setting `epoch` directly
/// (when resuming) also sets the learning rate.
public class LRSchedule {
    public let optimizer: Optimizer
    public let baseLr: Double
    public var epoch: Int { didSet { optimizer.lr = lr(at: epoch) } }

    init(_ optimizer: Optimizer) {
        self.optimizer = optimizer
        baseLr = optimizer.lr
        epoch = 0
    }

    /// The learning rate at `epoch`.
    public func lr(at epoch: Int) -> Double { baseLr }

    /// Epochs past this are no real schedule; `step()` stops there instead of overflowing.
    public static let maxEpoch = 1_000_000_000

    public func step() { if epoch < Self.maxEpoch { epoch += 1 } }
}

/// lr = base · γ^⌊epoch / stepSize⌋ (PyTorch's `StepLR(step_size, gamma)`).
public final class StepLR: LRSchedule {
    public let stepSize: Int
    public let gamma: Double

    public init(_ optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1) throws {
        guard stepSize > 0 else { throw TensorError("StepLR: step_size must be positive, got \(stepSize)") }
        guard gamma > 0, gamma.isFinite else { throw TensorError("StepLR: gamma must be positive, got \(gamma)") }
        self.stepSize = stepSize; self.gamma = gamma
        super.init(optimizer)
        optimizer.lr = lr(at: 0)
    }

    public override func lr(at epoch: Int) -> Double { baseLr * Foundation.pow(gamma, Double(epoch / stepSize)) }
}

/// lr = η_min + (base − η_min)·(1 + cos(π·epoch / T_max)) / 2 (the closed form of PyTorch's
/// `CosineAnnealingLR(T_max, eta_min)`; past T_max the cosine continues, as PyTorch's does).
public final class CosineLR: LRSchedule {
    public let tMax: Int
    public let etaMin: Double

    public init(_ optimizer: Optimizer, tMax: Int, etaMin: Double = 0) throws {
        guard tMax > 0 else { throw TensorError("CosineLR: T_max must be positive, got \(tMax)") }
        guard etaMin >= 0, etaMin.isFinite else { throw TensorError("CosineLR: eta_min must be non-negative, got \(etaMin)") }
        self.tMax = tMax; self.etaMin = etaMin
        super.init(optimizer)
        optimizer.lr = lr(at: 0)
    }

    public override func lr(at epoch: Int) -> Double {
        etaMin + (baseLr - etaMin) * (1 + Foundation.cos(Double.pi * Double(epoch) / Double(tMax))) / 2
    }
}
