import CJobdSystem

/// What the allocator and the kernel say about this process' memory.
public enum ProcessMemory {
    /// Heap bytes in use according to malloc (mallinfo2).
    public static func allocatedBytes() -> Int { Int(cjobd_malloc_in_use()) }

    /// Resident set size in bytes.
    public static func residentBytes() -> Int { Int(cjobd_rss_bytes()) }

    /// Makes large buffers (≥ 128 KiB) always come from mmap so that freeing
    /// them returns memory to the OS (glibc otherwise raises the threshold
    /// after the first large free and keeps such buffers in the heap).
    public static func returnLargeBuffersToSystem() { cjobd_tune_malloc() }
}
