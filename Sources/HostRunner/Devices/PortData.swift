import KVM

/// The data bytes of a port-I/O exit as the report channel reads and answers them: KVM's
/// `ExitBytes` in a run, a plain buffer in tests.
protocol PortData {
    var count: Int { get }
    subscript(index: Int) -> UInt8 { get nonmutating set }
}

extension ExitBytes: PortData {}

/// Item-wise access to a string I/O exit (`rep outs`/`rep ins`): `count` items of `width`
/// bytes laid end to end in the kvm_run data area.
extension PortData {
    func load(width: Int, item: Int = 0) -> UInt64 {
        var value: UInt64 = 0
        let base = item * width
        for byte in 0..<min(width, 8) where base + byte < count {
            value |= UInt64(self[base + byte]) << (8 * UInt64(byte))
        }
        return value
    }

    func store(_ value: UInt64, width: Int, item: Int) {
        let base = item * width
        for byte in 0..<min(width, 8) where base + byte < count {
            self[base + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))
        }
    }
}

/// A port access's data as a protocol carries it (a GHCB IOIO event's RAX or scratch
/// area, a TDVMCALL's R15): the same item layout as a KVM_EXIT_IO, in a buffer of its own,
/// so the devices serve it exactly as they serve the raw exit.
final class PortBuffer: PortData {
    private(set) var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// `count` items of `size` bytes, zero-filled (an IN's buffer before the device answers).
    convenience init(size: Int, count: Int) { self.init([UInt8](repeating: 0, count: size * count)) }

    /// The low `size` bytes of `value` (an OUT's RAX / R15).
    convenience init(value: UInt64, size: Int) {
        self.init((0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    var count: Int { bytes.count }

    subscript(index: Int) -> UInt8 {
        get { bytes[index] }
        set { bytes[index] = newValue }
    }
}
