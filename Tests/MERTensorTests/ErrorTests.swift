import XCTest
import MERTensor

/// Bad input is a Swift error with a message that says what was wrong.
final class ErrorTests: XCTestCase {
    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    func testShapeAndAxisErrorsNameTheProblem() throws {
        let x = try Tensor.zeros([4, 4])
        XCTAssertEqual(message { try x.reshape([3, 5]) }, "reshape: shape [3, 5] has 15 elements, tensor has 16")
        XCTAssertEqual(message { try x.sum(dim: 2) }, "sum: dimension 3 out of range for a tensor with 2 dimensions")
        XCTAssertEqual(message { try x.sum(dim: -3) }, "sum: dimension -3 out of range for a tensor with 2 dimensions")
        XCTAssertEqual(message { try x.narrow(0, 3, 2) }, "narrow: range start 3 length 2 out of bounds for dimension 1 of size 4")
        XCTAssertEqual(message { try x.select(1, 4) }, "select: index 4 out of range for dimension 2 of size 4")
        XCTAssertEqual(message { try x.permute([0, 0]) }, "permute: [0, 0] is not a permutation of the dimensions")
        XCTAssertEqual(message { try Tensor.zeros([2, -1]) }, "zeros: size -1 at dimension 2 is negative")
        XCTAssertEqual(message { try Tensor.zeros([1 << 20, 1 << 20]) }, "zeros: shape [1048576, 1048576] is too large")
        XCTAssertEqual(message { try x.item() }, "item: tensor has 16 elements, expected exactly 1 (shape [4, 4])")
        XCTAssertEqual(message { try Tensor.cat([x, try Tensor.zeros([3, 3])], dim: 0) },
                       "cat: tensor 2 has shape [3, 3], incompatible with [4, 4] outside dimension 1")
        XCTAssertEqual(message { try Tensor.from([1, 2, 3], shape: [2, 2]) }, "from: 3 values do not fill shape [2, 2] (4 elements)")
        XCTAssertEqual(message { try x.clamp(1, 0) }, "clamp: lower bound 1.0 is greater than upper bound 0.0")
        XCTAssertEqual(message { try Tensor.arange(0, 1, step: 0) }, "arange: step must be a finite non-zero number, got 0.0")
    }

    func testEmptyTensorsAreHandled() throws {
        let e = try Tensor.zeros([0, 3])
        XCTAssertEqual(try e.sum(dim: 0).toArray(), [0, 0, 0])
        XCTAssertEqual(try e.sum(dim: 1).shape, [0])
        XCTAssertEqual(message { try e.max() }, "max: tensor is empty")
        XCTAssertEqual(try e.matmul(try Tensor.zeros([3, 2])).shape, [0, 2])
        XCTAssertEqual(try Tensor.zeros([2, 0]).matmul(try Tensor.zeros([0, 3])).toArray(), [0, 0, 0, 0, 0, 0])
        XCTAssertEqual("\(e)", "tensor of shape [0, 3] (empty)")
    }
}
