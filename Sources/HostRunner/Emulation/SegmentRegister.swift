/// A segment register, as a segment-override prefix names it (SDM vol. 2 §2.1.1).
public enum SegmentRegister: Equatable, Sendable {
    case es, cs, ss, ds, fs, gs

    /// The override prefix byte's segment, or nil for any other byte.
    init?(overridePrefix byte: UInt8) {
        switch byte {
        case 0x26: self = .es
        case 0x2E: self = .cs
        case 0x36: self = .ss
        case 0x3E: self = .ds
        case 0x64: self = .fs
        case 0x65: self = .gs
        default: return nil
        }
    }
}
