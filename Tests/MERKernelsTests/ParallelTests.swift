import XCTest
import MERKernels
#if canImport(Glibc)
import Glibc
#endif

final class ParallelTests: XCTestCase {
    func testForRangesCoversEveryIndexOnceWithGranuleAlignedBounds() {
        for threads in [1, 2, 3, 7] {
            for count in [0, 1, 5, 31, 32, 33, 1000] {
                var hits = [Int](repeating: 0, count: count)
                let lock = NSLock()
                Parallel.forRanges(count, granule: 4, threads: threads) { r in
                    XCTAssertEqual(r.lowerBound % 4, 0)
                    lock.lock(); for i in r { hits[i] += 1 }; lock.unlock()
                }
                XCTAssertEqual(hits, [Int](repeating: 1, count: count), "threads \(threads) count \(count)")
            }
        }
    }

    func testRunWithMorePartsThanThreadsRunsEachPartOnce() {
        var hits = [Int](repeating: 0, count: 17)
        let lock = NSLock()
        Parallel.run(parts: 17, threads: 2) { p in lock.lock(); hits[p] += 1; lock.unlock() }
        XCTAssertEqual(hits, [Int](repeating: 1, count: 17))
    }

    /// The parts of one job, with the thread that ran each (pthread_self as a number). With
    /// `awaitHelper`, the caller's first part waits (up to a second) until another thread has
    /// run a part: threads claim parts as they come, and the caller alone would otherwise
    /// finish a job of empty parts before a helper woke up.
    private func runRecording(parts: Int, threads: Int, awaitHelper: Bool = false) -> (hits: [Int], runners: Set<UInt>) {
        var hits = [Int](repeating: 0, count: parts)
        var runners = Set<UInt>()
        let lock = NSLock()
        let caller = UInt(pthread_self())
        var waited = false
        Parallel.run(parts: parts, threads: threads) { p in
            let me = UInt(pthread_self())
            lock.lock(); hits[p] += 1; runners.insert(me)
            let wait = awaitHelper && me == caller && !waited
            waited = waited || wait
            lock.unlock()
            guard wait else { return }
            waitForAnotherThread(lock) { runners.count > 1 }
        }
        return (hits, runners)
    }

    /// Polls `done` under `lock` until it holds or a second has passed: a caller's part that
    /// waits for a helper to have run one (parts go to whichever thread claims them first).
    private func waitForAnotherThread(_ lock: NSLock, _ done: () -> Bool) {
        let deadline = Date().addingTimeInterval(1)
        while Date() < deadline {
            lock.lock(); let seen = done(); lock.unlock()
            if seen { return }
            usleep(50)
        }
    }

    /// Runs `body(spin)` with the helpers polling `spin` µs after each job before they sleep
    /// (then restores the setting); skipped on one core, where jobs never reach the pool.
    private func withHelpersPolling(for spins: [Double], _ body: (Double) -> Void) throws {
        try XCTSkipIf(Parallel.availableCores < 2, "the pool runs jobs of at most as many threads as cores")
        let saved = Parallel.spinMicroseconds
        defer { Parallel.spinMicroseconds = saved }
        for spin in spins {
            Parallel.spinMicroseconds = spin
            body(spin)
        }
    }

    /// The worker pool runs parts on its helper threads (not only on the caller), and helpers
    /// that went to sleep after polling are woken for the next job.
    func testThePoolsHelpersRunPartsAndWakeAfterSleeping() throws {
        try withHelpersPolling(for: [300.0, 1.0]) { spin in
            var helped = false
            let jobs = Parallel.pooledJobs
            for round in 0..<50 {
                // Long enough for 1 µs of polling to end: the next job finds the helpers asleep.
                if spin < 10 && round % 10 == 0 { usleep(2000) }
                let r = runRecording(parts: 4, threads: 2, awaitHelper: true)
                XCTAssertEqual(r.hits, [1, 1, 1, 1], "spin \(spin) round \(round)")
                // Whoever is running claims the next part: two threads when the helper joined.
                helped = helped || r.runners.count == 2
            }
            XCTAssertTrue(helped, "spin \(spin): no part ever ran on a helper thread")
            XCTAssertEqual(Parallel.pooledJobs - jobs, 50, "spin \(spin): every job goes through the pool")
        }
    }

    /// A helper held up inside a part (here it sleeps; on a busy machine the OS keeps it off its
    /// core) does not hold up the rest of the job: the caller claims the parts nobody has
    /// started. With parts assigned in turn (0, 2 to the caller, 1, 3 to the helper) the caller
    /// ran two of four and then waited for the helper's other one.
    func testTheCallerTakesThePartsOfAHelperThatIsHeldUp() throws {
        try XCTSkipIf(Parallel.availableCores < 2, "the pool runs jobs of at most as many threads as cores")
        let caller = UInt(pthread_self())
        for round in 0..<3 {
            var hits = [Int](repeating: 0, count: 4)
            var byCaller = 0, byHelper = 0
            let lock = NSLock()
            Parallel.run(parts: 4, threads: 2) { p in
                let mine = UInt(pthread_self()) == caller
                lock.lock(); hits[p] += 1; if mine { byCaller += 1 } else { byHelper += 1 }; lock.unlock()
                if mine {
                    // The caller's first part waits (up to a second) for the helper to start one,
                    // so that the helper is surely inside a part when the caller goes on.
                    waitForAnotherThread(lock) { byHelper > 0 }
                } else {
                    usleep(200_000)
                }
            }
            XCTAssertEqual(hits, [1, 1, 1, 1], "round \(round)")
            XCTAssertEqual(byHelper, 1, "round \(round): the helper, asleep in its first part, ran another")
            XCTAssertEqual(byCaller, 3, "round \(round)")
        }
    }

    /// Many short jobs back to back, with helpers that sleep at once (no polling): a helper
    /// that wakes after its job ended claims nothing of it, and every part of every job runs
    /// exactly once.
    func testLateHelpersNeverRepeatOrLoseAPart() throws {
        try withHelpersPolling(for: [0.0, 300.0]) { spin in
            for job in 0..<2000 {
                let parts = 1 + job % 5
                var hits = [Int](repeating: 0, count: parts)
                let lock = NSLock()
                Parallel.run(parts: parts, threads: 2) { p in lock.lock(); hits[p] += 1; lock.unlock() }
                if hits != [Int](repeating: 1, count: parts) {
                    XCTFail("spin \(spin) job \(job): parts ran \(hits) times")
                    return
                }
            }
        }
    }

    /// Helpers block every signal, so Ctrl-C reaches a thread that runs the script (the REPL's
    /// blocked terminal read must see it).
    func testHelpersBlockSignals() throws {
        try XCTSkipIf(Parallel.availableCores < 2, "the pool runs jobs of at most as many threads as cores")
        let caller = UInt(pthread_self())
        var blockedOnHelper: Bool?
        let lock = NSLock()
        Parallel.run(parts: 2, threads: 2) { _ in
            guard UInt(pthread_self()) != caller else {
                // Parts go to whoever claims them: hold the caller's until a helper has run one.
                waitForAnotherThread(lock) { blockedOnHelper != nil }
                return
            }
            var mask = sigset_t()
            pthread_sigmask(SIG_BLOCK, nil, &mask)
            lock.lock(); blockedOnHelper = sigismember(&mask, SIGINT) == 1; lock.unlock()
        }
        XCTAssertEqual(blockedOnHelper, true)
        var mask = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &mask)
        XCTAssertEqual(sigismember(&mask, SIGINT), 0, "the caller's own mask is untouched")
    }

    /// A call from inside a job (the pool is busy) takes the dispatch path and still runs
    /// every part once, on the caller's share and on the helpers' alike.
    func testNestedRunsComplete() {
        var inner = [[Int]](repeating: [Int](repeating: 0, count: 5), count: 3)
        let lock = NSLock()
        Parallel.run(parts: 3, threads: 2) { outer in
            Parallel.run(parts: 5, threads: 2) { p in lock.lock(); inner[outer][p] += 1; lock.unlock() }
        }
        XCTAssertEqual(inner, [[Int]](repeating: [1, 1, 1, 1, 1], count: 3))
        // The outer job was the pool's; the inner ones could not be.
        if Parallel.availableCores >= 2 {
            let jobs = Parallel.pooledJobs
            Parallel.run(parts: 2, threads: 2) { _ in Parallel.run(parts: 2, threads: 2) { _ in } }
            XCTAssertEqual(Parallel.pooledJobs - jobs, 1)
        }
    }

    /// More threads than cores go through libdispatch (polling helpers would take the cores
    /// from the threads with work), and still run every part once.
    func testMoreThreadsThanCoresBypassThePool() {
        let threads = Parallel.availableCores + 2
        let jobs = Parallel.pooledJobs
        let r = runRecording(parts: 3 * threads, threads: threads)
        XCTAssertEqual(r.hits, [Int](repeating: 1, count: 3 * threads))
        XCTAssertEqual(Parallel.pooledJobs, jobs)
    }

    /// Two threads launching jobs at once: one gets the pool, the other the dispatch path,
    /// and neither loses or repeats a part.
    func testConcurrentCallersEachRunTheirOwnParts() {
        let rounds = 200
        final class Counts: @unchecked Sendable { var value = [[Int]](repeating: [Int](repeating: 0, count: 7), count: 2) }
        let counts = Counts()
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            for _ in 0..<rounds {
                Parallel.run(parts: 7, threads: 2) { p in lock.lock(); counts.value[caller][p] += 1; lock.unlock() }
            }
        }
        XCTAssertEqual(counts.value, [[Int]](repeating: [Int](repeating: rounds, count: 7), count: 2))
    }
}
