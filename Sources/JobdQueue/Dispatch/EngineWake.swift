import JobdSystem
import Synchronization

/// Wakes the engine thread when a worker has handed back a job, with one
/// eventfd write, and only when the engine may be asleep in epoll_wait:
/// while it is running its loop it sees completions on its next turn anyway.
///
/// The engine says it is going to sleep (`prepareToSleep`), then looks at
/// the completion rings once more; a worker pushes a completion, then looks
/// at `sleeping`. The two sequentially consistent fences make sure at least
/// one side sees the other's write (Dekker), so no wakeup is lost.
public final class EngineWake: @unchecked Sendable {
    private let sleeping = Atomic<Bool>(false)
    private let eventFD: EventFD

    public init(eventFD: EventFD) { self.eventFD = eventFD }

    /// Engine: about to wait; check the rings after this and before waiting.
    public func prepareToSleep() {
        sleeping.store(true, ordering: .relaxed)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
    }

    /// Engine: back from the wait (or decided not to wait).
    public func awake() { sleeping.store(false, ordering: .relaxed) }

    /// Worker: after pushing completions.
    public func notify() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .relaxed), sleeping.exchange(false, ordering: .relaxed) {
            eventFD.signal()
        }
    }
}
