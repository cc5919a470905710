import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The crash-point shim (`Tests/CrashSweep/crashpoint.c`): an `LD_PRELOAD` library that
/// numbers the D-Bus method calls a process sends and, on request, signals the process right
/// after call k has been written (docs/testing.md, "Crash-point sweep").
///
/// It is compiled at run time with the host's C compiler (`cc`, Debian's `gcc`; else the
/// Swift toolchain's `clang`) into the build directory, next to the built executables, so
/// that the container (which shares the host's file system outside its private
/// directories) can load it.
public enum CrashPointShim {
    /// The shim's source, found from the package root.
    public static var sourcePath: String { PackageRoot.path + "/Tests/CrashSweep/crashpoint.c" }

    /// A helper script of the sweep's own tests, in `Tests/CrashSweep`.
    public static func testFile(_ name: String) -> String { PackageRoot.path + "/Tests/CrashSweep/" + name }

    private static let built = Locked<String?>(nil)

    /// Compiles the shim (once per process; again when the source is newer than the library)
    /// and returns the path of the `.so`.
    public static func build(nextTo executable: String) throws -> String {
        try built.withLock { path in
            if let path { return path }
            let directory = URL(fileURLWithPath: executable).deletingLastPathComponent().path
            let output = directory + "/crashpoint.so"
            let source = sourcePath
            let sourceDate = (try? FileManager.default.attributesOfItem(atPath: source)[.modificationDate] as? Date) ?? .distantFuture
            let builtDate = (try? FileManager.default.attributesOfItem(atPath: output)[.modificationDate] as? Date) ?? .distantPast
            if builtDate <= sourceDate {
                let compiler = try (try? Command.locate("cc", package: "gcc"))
                    ?? Command.locate("clang", package: "gcc (or the Swift toolchain's clang)")
                // A name of our own first: another test process may be loading the old one.
                let temporary = output + ".\(getpid()).tmp"
                try Command.run(compiler, ["-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", temporary, source, "-ldl", "-pthread"],
                                timeout: 120).check("cannot compile the crash-point shim \(source)")
                guard rename(temporary, output) == 0 else {
                    throw TestSupportError(.commandFailed, "cannot move \(temporary) to \(output): \(String(cString: strerror(errno)))")
                }
            }
            path = output
            return output
        }
    }
}

/// Runs a program on the host (not in a container) to completion, with `environment` added to
/// this process's: the same `posix_spawn` as every other helper (an empty signal mask, only
/// descriptors 0-2), on a thread of its own.
public func runOnHost(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                      timeout: Double = 120) async throws -> (status: Int32, stdout: String, stderr: String) {
    let output = try await Command.runAsync(executable, arguments, environment: environment, timeout: timeout)
    return (output.status, output.stdout, output.stderr)
}
