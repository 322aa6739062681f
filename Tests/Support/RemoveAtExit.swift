import Foundation
import Synchronization

/// Folders a test process creates for its whole life (a builder held in a `static let`, a
/// downloaded OVMF): removed when the process exits, since statics are never deinitialised.
public enum RemoveAtExit {
    private static let paths = Mutex<[String]>([])
    private static let registered: Bool = {
        atexit {
            for path in RemoveAtExit.paths.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
        }
        return true
    }()

    public static func folder(_ path: String) {
        _ = registered
        paths.withLock { $0.append(path) }
    }
}
