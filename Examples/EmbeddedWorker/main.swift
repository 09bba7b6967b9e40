// A program that embeds jobd and handles one queue with a Swift closure.
//
//   swift run jobd-embedded-example --port 6390 --dir /tmp/embedded
//   redis-cli -p 6390 JOB.ADD greetings world     # → id
//   redis-cli -p 6390 JOB.RESULT <id> WAIT 1000   # → "hello, world"
import Glibc
import JobdKit

struct EmptyName: Error, CustomStringConvertible {
    var description: String { "nobody to greet" }
}

do {
    let jobd = try Jobd(arguments: Array(CommandLine.arguments.dropFirst()))
    jobd.handle("greetings", concurrency: 2) { job in
        guard !job.payload.isEmpty else { throw EmptyName() }
        return Array("hello, ".utf8) + job.payload
    }
    exit(jobd.run())
} catch {
    print("jobd-embedded-example: \(error)")
    exit(1)
}
