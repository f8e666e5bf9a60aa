import CParallel
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The persistent threads behind `Parallel.run`: helpers that poll for their next share of
/// work for a while after each job (`Parallel.spinMicroseconds`) before they sleep.
///
/// Why not `DispatchQueue.concurrentPerform` alone: on this 2-core VM each of its fork/joins
/// cost ~40–50 µs (a 2 × 16.5 µs job took 57 µs, slower than running both parts in turn;
/// /tmp micro-benchmark, 2026-11-30), mostly waking a sleeping worker, and one training step
/// or 1-sample inference launches hundreds of them (every convolution phase, elementwise op
/// and reduction). A helper that is still polling starts within a microsecond: the same job
/// took 17 µs. OpenMP runtimes (PyTorch's) spin the same way before they block.
///
/// One job at a time: a call made while the pool is busy (from inside a job, or from another
/// thread such as a data loader) returns false, and `Parallel.run` takes the dispatch path.
/// Which thread runs a part never changes what the part computes, so results do not depend
/// on the path taken.
///
/// Parts are claimed, not assigned: the launching thread and the helpers take the next
/// unclaimed part until none is left. With a fixed assignment, a helper that the OS kept off
/// its core (another process busy there, or a VM whose second vCPU is not running) held up
/// every call until it ran: quick 1-sample inference took 30.7 ms on 2 threads with a busy
/// loop on the second core, against 10.0 ms on 1 thread.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// One helper thread: the number of the job it was last handed, and what it sleeps on.
    private final class Helper: @unchecked Sendable {
        let ticket = Atomic<Int>(0)
        let sleeping = Atomic<Bool>(false)
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        /// Keeps two helpers' tickets off one cache line (each polls its own).
        private let padding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)

        init() {
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(cond, nil)
        }

        /// Hands it job `number`, waking it if it sleeps. Sequentially consistent with the
        /// helper's `sleeping` store and `ticket` re-check, so one of the two sees the other.
        func hand(_ number: Int) {
            ticket.store(number, ordering: .sequentiallyConsistent)
            if sleeping.load(ordering: .sequentiallyConsistent) {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(cond)
                pthread_mutex_unlock(mutex)
            }
        }

        /// Waits for a job number other than `seen`: polls for `spin` seconds, then sleeps.
        func wait(after seen: Int, spin: Double) -> Int {
            let deadline = PeakFLOPs.now() + spin
            var polls = 0
            while true {
                let t = ticket.load(ordering: .acquiring)
                if t != seen { return t }
                mer_spin_pause()
                polls += 1
                if polls & 127 == 0, PeakFLOPs.now() > deadline { break }
            }
            pthread_mutex_lock(mutex)
            sleeping.store(true, ordering: .sequentiallyConsistent)
            while ticket.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(cond, mutex) }
            sleeping.store(false, ordering: .relaxed)
            pthread_mutex_unlock(mutex)
            return ticket.load(ordering: .acquiring)
        }
    }

    /// What a job's participants run: each claims its next part from `claim` until none is
    /// left, so a participant that is not running (a helper still asleep, or descheduled
    /// because another process wants its core) leaves its parts to those that are.
    private struct Job {
        let body: (Int) -> Void
        let precision: GemmPrecision
    }

    private let busy = Atomic<Bool>(false)
    /// The current job's part count (high 32 bits) and its next unclaimed part (low 32 bits), in
    /// one word: a helper that wakes late claims only a part that exists and is not taken, of
    /// whichever job is current then (running a part of a newer job than its ticket is fine).
    private let claim = Atomic<Int>(0)
    /// Parts of the current job that have finished, counted once their runner has let go of the
    /// job's body (`withoutActuallyEscaping` checks that nobody holds it when `run` returns).
    private let finished = Atomic<Int>(0)
    /// Written only while `busy` is held; helpers never read it.
    private var helpers: [Helper] = []
    private var job: Job?
    /// Jobs run so far (`Parallel.pooledJobs`).
    private(set) var jobNumber = 0

    /// Runs `body(part)` for every part in `0..<parts` on the calling thread and up to
    /// `threads − 1` helpers, and returns true when all are done; returns false at once,
    /// having run nothing, when the pool is busy or cannot start the helpers it needs.
    func run(parts: Int, threads: Int, _ body: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        guard parts < 1 << 31 else { return false }
        let participants = max(1, min(parts, threads))
        while helpers.count < participants - 1 {
            guard start(Helper()) else { return false }
        }
        withoutActuallyEscaping(body) { escapable in
            job = Job(body: escapable, precision: GemmPrecision.current)
            jobNumber += 1
            finished.store(0, ordering: .relaxed)
            // Publishes `job` to whoever claims a part from this value.
            claim.store(parts << 32, ordering: .releasing)
            for h in helpers.prefix(participants - 1) { h.hand(jobNumber) }
            var mine = 0
            while let p = claimPart() { escapable(p); mine += 1 }
            finished.add(mine, ordering: .relaxed)
            var polls = 0
            while finished.load(ordering: .acquiring) != parts {
                mer_spin_pause()
                polls += 1
                // A helper the OS has descheduled in the middle of a part: let it have this core.
                if polls & 4095 == 0 { sched_yield() }
            }
            job = nil   // the last reference to `escapable` besides this closure's
        }
        return true
    }

    /// The next unclaimed part of the current job, or nil when all are taken. A part claimed
    /// here keeps the job (and `job`) alive until it is counted in `finished`.
    @inline(__always)
    private func claimPart() -> Int? {
        var current = claim.load(ordering: .acquiring)
        while true {
            let part = current & 0xffff_ffff
            guard part < current >> 32 else { return nil }
            let (exchanged, original) = claim.compareExchange(expected: current, desired: current + 1,
                                                              ordering: .acquiringAndReleasing)
            if exchanged { return part }
            current = original
        }
    }

    /// Starts a thread for `helper`; false when the system refuses one (thread limits), which
    /// leaves the work to libdispatch rather than ending the process.
    private func start(_ helper: Helper) -> Bool {
        let context = Unmanaged.passRetained(HelperThread(pool: self, helper: helper)).toOpaque()
        // Helpers start (and stay) with every signal blocked, so that a process-directed signal
        // (Ctrl-C) is handled by a thread that runs the script: the REPL relies on SIGINT
        // interrupting its own blocked terminal read.
        var all = sigset_t(), saved = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<HelperThread>.fromOpaque(raw!).takeRetainedValue().main()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<HelperThread>.fromOpaque(context).release()
            return false
        }
        pthread_detach(thread)
        helpers.append(helper)
        return true
    }

    /// What a helper thread runs, forever.
    private final class HelperThread {
        let pool: WorkerPool
        let helper: Helper
        init(pool: WorkerPool, helper: Helper) { self.pool = pool; self.helper = helper }

        func main() {
            var seen = 0
            while true {
                seen = helper.wait(after: seen, spin: Parallel.spinMicroseconds * 1e-6)
                let done = pool.runShare()
                if done > 0 { pool.finished.add(done, ordering: .releasing) }
            }
        }
    }

    /// The parts this helper claims, run; returns how many. It reads `job` only after claiming
    /// a part, when the job cannot end before that part is counted. Not inlined, so that its
    /// copy of the job (and of the body it holds) is released before the helper counts its
    /// parts finished.
    @inline(never)
    private func runShare() -> Int {
        guard let first = claimPart(), let job else { return 0 }
        var done = 0
        GemmPrecision.with(job.precision) {
            var p: Int? = first
            while let part = p {
                job.body(part)
                done += 1
                p = claimPart()
            }
        }
        return done
    }
}
