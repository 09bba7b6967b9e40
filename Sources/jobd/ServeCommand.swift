import JobdServer
import JobdSystem
import Glibc

/// `jobd serve`: prepares the environment and runs the engine on this thread.
enum ServeCommand {
    static func start(config: ServerConfig, configFile: String, commandLineConfig: String) -> Int32 {
        ServerLauncher.run(config: config, configFile: configFile, commandLineConfig: commandLineConfig,
                           version: JobdVersion.text)
    }
}

enum JobdVersion {
    static let text = "0.1.0"
    static let redisCompatible = "7.0"
}
