import Foundation

/// The one folder a command's temporary files live in (`$TMPDIR/enlighten-run-XXXXXX`),
/// removed on every way out: `remove()` when the command ends, `deinit`, and the command's
/// signal handler (SIGINT, SIGTERM, SIGHUP), which calls `remove()` before it exits.
///
/// Removal has to win against the builds still running when a signal comes: it first stops
/// the tools (nasm, ld.lld) this folder's builds started, so none writes into a folder being
/// removed; every folder inside is made with plain mkdir(2), never `mkdir -p`, so nothing can
/// re-create the tree once it is gone; and the few files that must live elsewhere (an image
/// cache entry before it is renamed into place, `trackedFile`) are created under the same
/// lock removal takes and deleted with the folder.
public final class RunFolder: @unchecked Sendable {
    public let path: String
    // Guarded by `lock`.
    private let lock = NSLock()
    private var removed = false
    private var tools: Set<pid_t> = []
    private var outside: Set<String> = []

    /// Makes a new run folder in `base` (default: `$TMPDIR`, else /tmp).
    public init(in base: String = NSTemporaryDirectory()) throws(BuildError) {
        let template = (base.hasSuffix("/") ? base : base + "/") + "enlighten-run-XXXXXX"
        var buffer = Array(template.utf8CString)
        guard let made = mkdtemp(&buffer) else {
            throw .output(path: template, reason: String(cString: strerror(errno)))
        }
        path = String(cString: made)
    }

    deinit { remove() }

    /// A new, empty folder inside, named `prefix-XXXXXX`.
    public func makeFolder(_ prefix: String) throws(BuildError) -> String {
        var buffer = Array("\(path)/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&buffer) else {
            throw .output(path: "\(path)/\(prefix)-XXXXXX", reason: String(cString: strerror(errno)))
        }
        return String(cString: made)
    }

    /// Records a tool started for this run, so `remove()` can stop it; false when the folder
    /// is already gone (the caller stops the tool itself).
    func adopt(_ tool: pid_t) -> Bool {
        lock.withLock {
            guard !removed else { return false }
            tools.insert(tool)
            return true
        }
    }

    /// The tool has been waited for.
    func release(_ tool: pid_t) {
        _ = lock.withLock { tools.remove(tool) }
    }

    /// Creates `file` (outside the folder) with `contents` unless the folder is gone, and
    /// deletes it in `remove()` until `settled(_:)` says it was renamed or removed.
    func trackedFile(_ file: String, contents: Data) -> Bool {
        lock.withLock {
            guard !removed, FileManager.default.createFile(atPath: file, contents: contents) else { return false }
            outside.insert(file)
            return true
        }
    }

    func settled(_ file: String) {
        _ = lock.withLock { outside.remove(file) }
    }

    /// Stops this run's tools, deletes its outside files and removes the folder. Safe to call
    /// from any thread, more than once.
    public func remove() {
        let (first, running, files) = lock.withLock {
            let taken = (!removed, tools, outside)
            removed = true
            tools = []
            outside = []
            return taken
        }
        guard first else { return }
        // Foundation's Process starts the tools in process groups of their own (measured on
        // Linux: a tool's pgid is its pid), so a terminal's SIGINT does not reach them, and
        // they keep the SIG_IGN a signal watch sets (ignored signals stay ignored across
        // execve(2)): only SIGKILL, sent from here, stops them.
        for tool in running { kill(tool, SIGKILL) }
        for file in files { unlink(file) }
        // A tool killed a moment ago may still add a file between listing and rmdir
        // (ENOTEMPTY); it makes no folders, so a few more attempts finish once it is gone.
        for _ in 0..<100 {
            do {
                try FileManager.default.removeItem(atPath: path)
                return
            } catch {
                if access(path, F_OK) != 0 { return }
                usleep(10_000)
            }
        }
    }
}
