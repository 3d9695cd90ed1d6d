import ArgumentParser

/// Exit codes of DESIGN.md: 0 success; 1 the operation failed or was refused for safety; 2 bad usage or input.
enum BallastExit {
    static let failed = ExitCode(1)
    static let badInput = ExitCode(2)
}
