import Foundation
import Payload

#if canImport(Glibc)
import Glibc
#endif

/// One report file kept current on disk, each version replacing the last atomically: the
/// bytes go whole into a temporary file in the same folder, are flushed (fsync), and the
/// temporary file is renamed over the report (rename(2) replaces the name atomically). A
/// reader, or a crash, finds the previous version or the new one, never a mix; a write that
/// fails leaves the previous version and removes its temporary file.
///
/// Disk space for the versions still to come is held from the start (`SpaceReserve`), so a
/// disk that fills during the run costs the report nothing until it outgrows the reserve:
/// out of space (ENOSPC, EDQUOT), the writer gives back what the next version needs and
/// tries again.
final class AtomicReportFile {
    let url: URL
    private var reserve: SpaceReserve?

    init(url: URL) {
        self.url = url
    }

    /// Creates the folder and, in it, the reserve of `reserveBytes` (as much of it as the disk
    /// has: a run on a nearly full disk still starts).
    func prepare(reserveBytes: Int) throws(ReportFileError) {
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ReportFileError(url: url, reason: "cannot create its folder: \(FileProblem.reason(error, path: folder.path, creatingFolder: true))")
        }
        reserve = SpaceReserve(folder: folder.path, bytes: reserveBytes)
    }

    func write(_ data: Data) throws(ReportFileError) {
        while true {
            do {
                try writeOnce(data)
                reserve?.topUp()
                return
            } catch let failure {
                // Out of space: what the reserve gives back (the new version, with room for the
                // file system's own blocks) lets the next attempt through, unless the reserve
                // is spent.
                guard failure.isOutOfSpace, let reserve, reserve.release(data.count + SpaceReserve.slack) else { throw failure }
            }
        }
    }

    /// Gives the reserved space back to the file system.
    func close() {
        reserve = nil
    }

    /// One version: every step relative to the folder as it was opened, so a version lands
    /// whole in one folder and its temporary file is removed even if the folder is renamed
    /// meanwhile; the folder is fsynced after the rename, making the new name durable.
    private func writeOnce(_ data: Data) throws(ReportFileError) {
        let folder = url.deletingLastPathComponent().path, name = url.lastPathComponent
        let temporary = ".\(name).\(getpid()).tmp"
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw ReportFileError(url: url, call: "open \(folder)", errno: errno) }
        defer { _ = Glibc.close(directory) }
        unlinkat(directory, temporary, 0) // a killed run with this pid may have left it
        // 0666 before the umask, as any new file.
        let fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw ReportFileError(url: url, call: "open \(temporary)", errno: errno) }
        var failure: ReportFileError?
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = ReportFileError(url: url, call: "write", errno: errno)
                    return
                }
                offset += written
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = ReportFileError(url: url, call: "fsync", errno: errno) }
        if Glibc.close(fd) != 0, failure == nil { failure = ReportFileError(url: url, call: "close", errno: errno) }
        if failure == nil, renameat(directory, temporary, directory, name) != 0 { failure = ReportFileError(url: url, call: "rename", errno: errno) }
        if let failure {
            unlinkat(directory, temporary, 0)
            throw failure
        }
        _ = fsync(directory)
    }
}

/// Free space held in a folder: a file unlinked as soon as it is made (the space goes back to
/// the file system when the process ends, however it ends) whose blocks are allocated with
/// posix_fallocate(3). `release` hands some back (ftruncate), `topUp` takes it again while
/// the disk has it.
final class SpaceReserve {
    /// What a file system needs besides a file's bytes (its own blocks, a page's rounding).
    static let slack = 64 << 10

    private let fd: Int32
    private let target: Int
    private var held = 0

    /// nil when no file can be made in `folder` (then the writes themselves will say why).
    init?(folder: String, bytes: Int) {
        let path = folder + "/.enlighten-reserve.\(getpid())"
        unlink(path) // a killed run with this pid may have left it
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        unlink(path)
        target = bytes
        // All of it if the disk has it, else as much as it has, halving down to the slack.
        var size = bytes
        while size >= Self.slack, posix_fallocate(fd, 0, off_t(size)) != 0 { size /= 2 }
        held = size >= Self.slack ? size : 0
        if held == 0 { _ = ftruncate(fd, 0) }
    }

    deinit { _ = Glibc.close(fd) }

    /// Frees `bytes` (or what is left); false when nothing was held.
    func release(_ bytes: Int) -> Bool {
        guard held > 0 else { return false }
        held = max(0, held - bytes)
        return ftruncate(fd, off_t(held)) == 0
    }

    /// Takes the reserve back to its full size where the disk allows; keeps what it has where
    /// it does not.
    func topUp() {
        guard held < target else { return }
        if posix_fallocate(fd, 0, off_t(target)) == 0 { held = target }
    }
}

public struct ReportFileError: Error, CustomStringConvertible {
    public let url: URL
    public let reason: String
    /// The errno of the system call that failed, when one did.
    public var errno: Int32?

    init(url: URL, reason: String) {
        self.url = url
        self.reason = reason
    }

    /// A system call's failure: its name, the reason in words and the errno number.
    init(url: URL, call: String, errno: Int32) {
        self.url = url
        self.reason = "\(String(cString: strerror(errno))) (errno \(errno), \(call))"
        self.errno = errno
    }

    var isOutOfSpace: Bool { errno == ENOSPC || errno == EDQUOT }

    public var description: String { "cannot write the report \(url.path): \(reason)" }
}
