import XCTest
import MERData

final class SplitsTests: XCTestCase {
    func testNaturalOrder() {
        XCTAssertEqual(["sub10", "sub2", "sub1", "sub02"].sorted(by: naturalLess), ["sub1", "sub2", "sub02", "sub10"])
    }

    func testLOSOTestsEverySampleOnceAndNeverMixesSubjects() throws {
        let ds = ToyDataset(subjects: 12, perSubject: 5)
        let folds = loso(ds)
        XCTAssertEqual(folds.map(\.subject), (1...12).map { "s\($0)" })
        var tested = [Int](repeating: 0, count: ds.count)
        for f in folds {
            XCTAssertEqual(Set(f.train).intersection(f.test), [])
            XCTAssertEqual(f.train.count + f.test.count, ds.count)
            XCTAssertTrue(f.test.allSatisfy { ds.subject(at: $0) == f.subject })
            XCTAssertFalse(f.train.contains { ds.subject(at: $0) == f.subject })
            for i in f.test { tested[i] += 1 }
        }
        XCTAssertEqual(tested, [Int](repeating: 1, count: ds.count))
        let c = try casme2()
        XCTAssertEqual(loso(c).map(\.subject), ["sub01", "sub02", "sub03"])
        XCTAssertEqual(loso(c).map(\.test.count), [4, 3, 3])
    }

    func testKFoldGroupsBySubject() throws {
        let ds = ToyDataset(subjects: 10, perSubject: 3)
        let folds = try kfold(ds, k: 3, seed: 7)
        XCTAssertEqual(folds.count, 3)
        var tested = [Int](repeating: 0, count: ds.count)
        for f in folds {
            let trainSubjects = Set(f.train.map(ds.subject(at:))), testSubjects = Set(f.test.map(ds.subject(at:)))
            XCTAssertTrue(trainSubjects.isDisjoint(with: testSubjects))
            XCTAssertEqual(Set(f.testSubjects), testSubjects)
            XCTAssertEqual(f.train.count + f.test.count, ds.count)
            for i in f.test { tested[i] += 1 }
        }
        XCTAssertEqual(tested, [Int](repeating: 1, count: ds.count))
        XCTAssertEqual(folds.map(\.test.count).sorted(), [9, 9, 12])
        XCTAssertEqual(try kfold(ds, k: 3, seed: 7).map(\.test), folds.map(\.test))
        XCTAssertNotEqual(try kfold(ds, k: 3, seed: 8).map(\.subject), folds.map(\.subject))
        XCTAssertThrowsError(try kfold(ds, k: 11)) { XCTAssertTrue("\($0)".contains("only 10 subjects")) }
    }

    func testValidationSplitCarvesWholeTrainingSubjects() throws {
        let ds = ToyDataset(subjects: 10, perSubject: 4)
        let fold = loso(ds)[0]
        let (train, val) = try validationSplit(ds, train: fold.train, size: .fraction(0.25), seed: 3)
        XCTAssertEqual(Set(val.map(ds.subject(at:))).count, 2)   // round(0.25 × 9)
        XCTAssertTrue(Set(train.map(ds.subject(at:))).isDisjoint(with: Set(val.map(ds.subject(at:)))))
        XCTAssertEqual(Set(train + val), Set(fold.train))
        XCTAssertFalse(val.contains { fold.test.contains($0) })
        let (_, v1) = try validationSplit(ds, train: fold.train, size: .subjects(1), seed: 3)
        XCTAssertEqual(Set(v1.map(ds.subject(at:))).count, 1)
        XCTAssertEqual(try validationSplit(ds, train: fold.train, size: .subjects(1), seed: 3).validation, v1)
        XCTAssertThrowsError(try validationSplit(ds, train: fold.train, size: .subjects(9)))
    }

    func testSubsetAndFilterKeepMetadata() throws {
        let ds = try casme2()
        let happy = ds.filter { ds.label(at: $0) == 0 }
        XCTAssertEqual(happy.count, 2)
        XCTAssertEqual((0..<happy.count).map(happy.id(at:)), ["sub01/EP02_01f", "sub03/EP01_01"])
        XCTAssertEqual(try happy.sample(at: 1).id, "sub03/EP01_01")
        XCTAssertThrowsError(try ds.subset([99]))
    }
}
