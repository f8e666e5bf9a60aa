import Foundation
import MERNN
import MERTensor
import XCTest

/// Against files written by real PyTorch (Tests/Fixtures/torch/make_torch_fixtures.py):
/// a state dict straight from `model.state_dict()` and torch.optim's own update steps.
final class TorchFixtureTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/torch")

    func entries(_ name: String) throws -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: try SafeTensors.read(path: Self.dir.appendingPathComponent(name).path).map { ($0.name, $0.tensor) })
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ tol: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        let worst = zip(a.toArray(), b.toArray()).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tol, "\(what): worst relative difference \(worst)", file: file, line: line)
    }

    func testPyTorchStateDictLoadsByNameAndGivesTheSameOutputs() throws {
        let model = Sequential([try Conv2d(2, 4, kernel: (3, 3), padding: (1, 1)), try BatchNorm2d(4), ReLU(),
                                MaxPool2d(kernel: (2, 2)), Flatten(), try Linear(4 * 4 * 4, 3)])
        try model.load(path: Self.dir.appendingPathComponent("sequential.safetensors").path)
        let bn = model.children[1].module as! BatchNorm2d
        XCTAssertEqual(try bn.numBatchesTracked.item(), 3, "the int64 num_batches_tracked buffer loads")
        model.eval()
        let io = try entries("io.safetensors")
        assertClose(try model(io["x"]!), io["y"]!, 1e-5, "eval output")
    }

    func testOptimisersMatchTorchOptim() throws {
        let e = try entries("optim.safetensors")
        let cases: [(String, (Tensor) throws -> Optimizer)] = [
            ("adam", { try Adam([$0], lr: 0.01, weightDecay: 0.01) }),
            ("adamw", { try AdamW([$0], lr: 0.01, weightDecay: 0.01) }),
            ("sgd", { try SGD([$0], lr: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: true) }),
        ]
        for (name, make) in cases {
            let p = try e["p0"]!.clone().detach()
            try p.requiresGrad(true)
            let opt = try make(p)
            for i in 0..<3 {
                p.grad = e["g\(i)"]!
                try opt.step()
                // PyTorch's CPU kernels fuse some multiply-adds; a few float ulps apart at most.
                assertClose(p, e["\(name)\(i)"]!, 2e-6, "\(name) step \(i + 1)")
            }
        }
    }
}
