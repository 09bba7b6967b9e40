/// The per-worker side of `DispatchMode.spscPerWorker`: a worker's own
/// slots, the SPSC ring the engine fills with them and the SPSC ring the
/// worker hands them back through. A worker holds at most `depth` slots, so
/// neither ring can overflow.
final class WorkerRings: @unchecked Sendable {
    let slots: [WorkerSlot]
    /// Engine → worker; at most `depth` entries.
    let dispatch: SPSCRing
    /// Worker → engine; never full, since a worker holds at most `depth` slots.
    let completions: SPSCRing

    // Engine only.
    let depth: Int
    var inFlight: Int { depth - freeSlots.count }
    private var freeSlots: [UInt32]
    /// Jobs were given since the worker was last unparked.
    var given = false

    init(depth: Int) {
        self.depth = depth
        slots = (0..<depth).map { WorkerSlot(index: UInt32($0)) }
        freeSlots = (0..<UInt32(depth)).reversed()
        dispatch = SPSCRing(capacity: depth)
        completions = SPSCRing(capacity: depth)
    }

    /// Engine: the `n`th free slot from the top (0: the one `give` takes first).
    func freeSlot(_ n: Int) -> WorkerSlot? {
        n < freeSlots.count ? slots[Int(freeSlots[freeSlots.count - 1 - n])] : nil
    }

    /// Engine: hands a filled free slot to the worker (free slots are given top first).
    func give(_ slot: WorkerSlot) {
        precondition(freeSlots.last == slot.index, "slots are given in freeSlot order")
        freeSlots.removeLast()
        slot.handOut()
        given = true
        let pushed = dispatch.push(slot.index)
        precondition(pushed, "a worker's ring holds its depth")
    }

    /// Engine: the next slot handed back, if any.
    func takeCompleted() -> WorkerSlot? {
        guard let index = completions.pop() else { return nil }
        return slots[Int(index)]
    }

    /// Engine: the slot's outcome has been applied; it can be filled again.
    func release(_ slot: WorkerSlot) {
        slot.inUse = false
        freeSlots.append(slot.index)
    }
}
