import Foundation
import GuestPhysical
import KVM

/// Why a run could not start (as opposed to a guest that ran and failed).
public enum RunError: Error, Sendable, CustomStringConvertible {
    /// /dev/kvm is missing or not usable: the host cannot run guests at all.
    case hostUnavailable(String)
    case kvm(KVMError)
    case invalidOptions(String)
    case planExceedsMemory(needed: UInt64, available: UInt64)

    /// The host, not the input, is what failed: no usable KVM, or a host resource ran out
    /// (memory, descriptors). Exit 3 rather than 2.
    public var isHostFailure: Bool {
        switch self {
        case .hostUnavailable: true
        case .kvm(let error): error.errno.map(Self.hostResourceErrnos.contains) ?? false
        case .invalidOptions, .planExceedsMemory: false
        }
    }

    /// ENOMEM, ENFILE, EMFILE, ENOSPC (asm-generic/errno-base.h): the host ran out of memory,
    /// descriptors or space, whatever the image asked for.
    static let hostResourceErrnos: Set<Int32> = [12, 23, 24, 28]

    public var description: String {
        switch self {
        case .hostUnavailable(let why): why
        case .kvm(let error) where error.errno == 12:
            error.description + ": the host is out of memory for this guest (try a smaller --memory, or free memory)"
        case .kvm(let error): error.description
        case .invalidOptions(let why): why
        case .planExceedsMemory(let needed, let available):
            "the image's plan needs guest RAM up to \(hex(needed)) but the guest has \(hex(available)) (raise --memory)"
        }
    }

    /// The KVM device: /dev/kvm, or `ENLIGHTEN_KVM` (to point at another node, or at nothing
    /// to see how a host without KVM is reported).
    public static var devicePath: String { ProcessInfo.processInfo.environment["ENLIGHTEN_KVM"] ?? "/dev/kvm" }

    /// Opens /dev/kvm, turning the usual failures into a sentence a user can act on.
    public static func openSystem(path: String = devicePath) throws(RunError) -> KVMSystem {
        do {
            return try KVMSystem.open(path: path)
        } catch {
            switch error.errno {
            case 2?:
                throw .hostUnavailable("\(path) does not exist: this host has no KVM (load kvm and a backend module, or run on a machine with virtualization)")
            case 13?, 1?: throw .hostUnavailable("no permission to open \(path): run as root or add yourself to the kvm group")
            default: throw .hostUnavailable("cannot use \(path): \(error)")
            }
        }
    }
}
