import XCTest
import Foundation
import MERTensor
import MERNN

/// Five Adam steps of a small CNN against an independent numpy float64 implementation
/// (forward, cross-entropy and backward by hand): Tests/Fixtures/training/make_trajectory.py.
final class TrajectoryTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/training")

    func fixture(_ name: String) -> String { Self.fixtures.appendingPathComponent(name).path }

    func testAdamTrajectoryMatchesNumpyReference() throws {
        let g = Generator(seed: 1)
        let model = Sequential([
            try Conv2d(2, 4, kernel: (3, 3), padding: (1, 1), generator: g), ReLU(), MaxPool2d(kernel: (2, 2)),
            Flatten(), try Linear(4 * 4 * 4, 3, generator: g),
        ])
        XCTAssertEqual(model.stateDict().map { $0.name }, ["0.weight", "0.bias", "4.weight", "4.bias"])
        try model.load(path: fixture("trajectory_init.safetensors"))

        let ref = Dictionary(try SafeTensors.read(path: fixture("trajectory.safetensors")).map { ($0.name, $0) },
                             uniquingKeysWith: { a, _ in a })
        let x = ref["input"]!.tensor, y = ref["target"]!.tensor
        XCTAssertEqual(x.shape, [6, 2, 8, 8])
        XCTAssertEqual(ref["target"]!.dtype, "I64")
        let wantLosses = ref["losses"]!.tensor.toArray()
        XCTAssertEqual(wantLosses.count, 6)

        let opt = try Adam(model.parameters(), lr: 0.01)
        var losses: [Float] = []
        for _ in 0..<5 {
            opt.zeroGrad()
            let loss = try Loss.crossEntropy(try model(x), y)
            losses.append(try loss.item())
            try loss.backward()
            try opt.step()
        }
        losses.append(try GradMode.disabled { try Loss.crossEntropy(try model(x), y).item() })

        for (i, (got, want)) in zip(losses, wantLosses).enumerated() {
            XCTAssertEqual(got, want, accuracy: 1e-5 * Swift.abs(want), "loss \(i)")
        }
        XCTAssertLessThan(losses.last!, losses.first! * 0.6, "training makes progress")
        for (name, t) in model.stateDict() {
            let want = ref["final." + name]!.tensor
            XCTAssertEqual(want.shape, t.shape, name)
            let scale = want.toArray().map { Swift.abs($0) }.max()!
            for (i, (a, b)) in zip(t.toArray(), want.toArray()).enumerated() {
                XCTAssertEqual(a, b, accuracy: 1e-5 * Swift.max(Swift.abs(b), 0.1 * scale), "\(name)[\(i)]")
            }
        }
    }
}
