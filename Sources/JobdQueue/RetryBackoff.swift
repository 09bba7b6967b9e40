/// The delay before retry number `attempt` (1 for the first retry):
/// min(max, base·2^(attempt-1)), or with full jitter a uniform draw in
/// [0, that] (AWS' "full jitter": spreads a thundering herd of retries).
public enum RetryBackoff {
    public static func delay(attempt: Int, base: Int64, max cap: Int64, jitter: Bool,
                             using random: inout some RandomNumberGenerator) -> Int64 {
        guard base > 0, attempt > 0 else { return 0 }
        let exponent = min(attempt - 1, 62)
        // Saturate instead of overflowing: base·2^k > cap once base > cap >> k.
        let ceiling = exponent >= 63 || base > (Int64.max >> Int64(exponent)) ? cap : min(cap, base << Int64(exponent))
        guard jitter, ceiling > 0 else { return ceiling }
        return Int64.random(in: 0...ceiling, using: &random)
    }
}
