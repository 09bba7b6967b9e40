import CJobdSystem
import Synchronization

/// Spin-wait helpers.
public enum CPU {
    /// A pause hint for spin loops (PAUSE on x86-64, YIELD on arm64): frees the
    /// core's other hyperthread and avoids a pipeline flush when the awaited
    /// cache line changes. Inlinable so other modules' spin loops get the bare instruction.
    @inlinable @inline(__always)
    public static func relax() { cjobd_cpu_relax() }
}

/// A one-permit parking spot for one thread, as Rust's `thread::park`/`unpark`:
/// the owning thread calls `park`, which returns once a permit is available
/// (consuming it); any thread calls `unpark`, which makes the permit available.
/// Permits do not accumulate. Everything a thread wrote before `unpark` is
/// visible to the parked thread after `park` returns (release/acquire).
///
/// State machine on one 32-bit word (the futex word):
///   empty (0) -- no permit, owner running;
///   notified (1) -- a permit waits;
///   parked (UInt32.max) -- the owner is asleep, or about to sleep, on the futex.
/// `park` moves notified→empty or empty→parked with one wrapping decrement,
/// so a permit that arrives between the owner's check and its sleep is never
/// lost: `unpark` swaps in notified and, only if it saw parked, issues a
/// futex wake; the futex wait itself re-checks the word in the kernel.
public final class Parker: @unchecked Sendable {
    private static let empty: UInt32 = 0
    private static let notified: UInt32 = 1
    private static let parked: UInt32 = .max

    // Why a pointer to memory we allocate rather than a stored `Atomic`: the
    // futex syscall needs the address of the very word the atomics operate on,
    // and that address must not change while a thread sleeps on it. Swift offers
    // no supported way to get the address of an `Atomic` stored property
    // (`withUnsafePointer(to:)` promises only a pointer valid inside the
    // closure, possibly to a temporary). Memory from `allocate` has a fixed
    // address for its lifetime; an `Atomic<UInt32>` is initialized in place
    // there and only ever used through `pointee` (an addressor: `Atomic` is
    // ~Copyable, so this borrows in place, never a copy). The kernel gets the
    // same address as a `uint32_t *`: `Atomic<UInt32>` has UInt32's size and
    // alignment, and the kernel does its own atomic read, so no plain Swift
    // access aliases the atomic. The word gets a cache line of its own so
    // parkers of neighbouring workers do not false-share.
    private let state: UnsafeMutablePointer<Atomic<UInt32>>
    /// The same address, typed for the C shim; never dereferenced in Swift.
    private let futexWord: UnsafeMutablePointer<UInt32>

    public init() {
        assert(MemoryLayout<Atomic<UInt32>>.size == 4 && MemoryLayout<Atomic<UInt32>>.alignment == 4)
        let line = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        state = line.bindMemory(to: Atomic<UInt32>.self, capacity: 1)
        state.initialize(to: Atomic(Parker.empty))
        futexWord = UnsafeMutableRawPointer(state).assumingMemoryBound(to: UInt32.self)
    }

    deinit {
        state.deinitialize(count: 1)
        UnsafeMutableRawPointer(state).deallocate()
    }

    /// Returns once a permit is available, consuming it (owner thread only).
    /// Polls `spins` times with a pause hint first, then sleeps on the futex.
    /// With `timeoutNanos` ≥ 0 it also returns when that much time has passed,
    /// with or without a permit; with a negative timeout it never returns without one.
    public func park(spins: Int = 100, timeoutNanos: Int64 = -1) {
        // Spin on a plain load: it keeps the line shared instead of stealing it
        // from an unparking thread on every turn.
        var turn = 0
        while turn < spins && state.pointee.load(ordering: .relaxed) != Parker.notified {
            CPU.relax()
            turn += 1
        }
        // notified → empty (take the permit) or empty → parked. Acquire: when a
        // permit is taken, pairs with the release in `unpark`.
        if state.pointee.wrappingSubtract(1, ordering: .acquiring).oldValue == Parker.notified { return }

        if timeoutNanos < 0 {
            // Only `unpark` changes the word now, and only to notified; a futex
            // wait that returns early (signal, stale wake) just goes round again.
            repeat {
                _ = cjobd_futex_wait(futexWord, Parker.parked, -1)
            } while !state.pointee.compareExchange(
                expected: Parker.notified, desired: Parker.empty, ordering: .acquiring).exchanged
            return
        }
        let deadline = Clock.monotonicNanos() &+ timeoutNanos
        while state.pointee.load(ordering: .relaxed) == Parker.parked {
            let remaining = deadline &- Clock.monotonicNanos()
            if remaining <= 0 { break }
            _ = cjobd_futex_wait(futexWord, Parker.parked, remaining)
        }
        // Leave the parked state, taking a permit if one came (acquire, as above).
        _ = state.pointee.exchange(Parker.empty, ordering: .acquiring)
    }

    /// Makes a permit available (any thread). Costs one atomic swap, plus one
    /// futex wake only when the owner is parked or about to be.
    public func unpark() {
        // Release: publishes what this thread wrote before (e.g. a ring push) to
        // the owner's acquire in `park`. It must be a read-modify-write, never
        // "skip when already notified": a plain load could read an old permit
        // the owner is consuming right now, and our writes would not be ordered
        // before its next check, which is a lost wakeup.
        if state.pointee.exchange(Parker.notified, ordering: .releasing) == Parker.parked {
            _ = cjobd_futex_wake(futexWord, 1)
        }
    }

    /// Whether the owner is parked (or about to be): a relaxed read, for stats.
    public var isParked: Bool {
        state.pointee.load(ordering: .relaxed) == Parker.parked
    }
}
