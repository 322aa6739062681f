import Foundation
import Payload

/// Where an `ovmf-*` case's image comes from: Debian's OVMF.fd (edk2 2022.11), at
/// ENLIGHTEN_OVMF or /usr/share/ovmf/OVMF.fd, as the file is or with one deliberate defect
/// (`FirmwareDefect`). No stub is built for it. A missing file fails the case with the install
/// hint rather than skipping it: a suite that quietly ran fewer cases would pass for the
/// wrong reason.
public struct FirmwareVolumeSource: Sendable {
    public let defect: FirmwareDefect?

    public init(defect: FirmwareDefect? = nil) { self.defect = defect }

    /// Debian's package puts it here (`apt-get install ovmf`).
    public static let defaultPath = "/usr/share/ovmf/OVMF.fd"

    /// ENLIGHTEN_OVMF when set and not empty, else `defaultPath`.
    public static var path: String {
        ProcessInfo.processInfo.environment["ENLIGHTEN_OVMF"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultPath
    }

    /// The firmware, with its defect made; a sentence for the case's failure when it cannot be.
    func load() -> Result<Image, LoadFailure> {
        let path = Self.path
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(
                LoadFailure(
                    description:
                        "no OVMF.fd at \(path): install Debian's (apt-get install ovmf) or set ENLIGHTEN_OVMF to an OVMF.fd of edk2 2022.11"))
        }
        var bytes = [UInt8](data)
        if let defect {
            do { try defect.make(in: &bytes) } catch { return .failure(LoadFailure(description: "\(path): \(error)")) }
        }
        do { return .success(try Image(firmwareVolume: "OVMF", bytes: bytes)) } catch {
            return .failure(LoadFailure(description: "\(path) is not a firmware volume this runner can run: \(error)"))
        }
    }

    struct LoadFailure: Error, CustomStringConvertible { let description: String }
}
