/// SW_EXITINFO1 of an IOIO event: the SVM IOIO intercept information (AMD APM
/// vol. 2, "IOIO Intercept"; bit names from edk2 Ghcb.h `IOIO_*` and Linux
/// svm.h `SVM_IOIO_*`).
///
/// | bits | field |
/// | --- | --- |
/// | 0 | TYPE: 1 = IN, 0 = OUT |
/// | 2 | STR: INS/OUTS |
/// | 3 | REP prefix |
/// | 6:4 | operand size, one-hot: 0x10 one byte, 0x20 two, 0x40 four |
/// | 9:7 | address size, one-hot: 0x80 16-bit, 0x100 32-bit, 0x200 64-bit |
/// | 12:10 | effective segment (0 ES … 3 DS) |
/// | 31:16 | port |
public struct GHCBIOIOInfo: Sendable, Hashable {
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(
        port: UInt16, size: Int, isIn: Bool, isString: Bool = false, isRep: Bool = false,
        addressSize: Int = 64, segment: UInt8 = 0
    ) {
        var value = UInt64(port) << 16
        if isIn { value |= 1 }
        if isString { value |= 1 << 2 }
        if isRep { value |= 1 << 3 }
        value |= UInt64(size & 0x7) << 4
        value |= UInt64((addressSize / 16) & 0x7) << 7
        value |= UInt64(segment & 0x7) << 10
        self.rawValue = value
    }

    public var isIn: Bool { rawValue & 1 != 0 }
    public var isString: Bool { rawValue & (1 << 2) != 0 }
    public var isRep: Bool { rawValue & (1 << 3) != 0 }
    /// Bits 6:4 as KVM reads them (`(info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT`):
    /// 1, 2 or 4 for a well-formed event, anything in 0…7 otherwise.
    public var sizeField: Int { Int((rawValue >> 4) & 0x7) }
    /// The operand size in bytes, or nil when bits 6:4 are not exactly one of the three.
    public var operandSize: Int? { [1, 2, 4].contains(sizeField) ? sizeField : nil }
    /// 16, 32 or 64 (bits 9:7 one-hot), or nil.
    public var addressSize: Int? {
        switch (rawValue >> 7) & 0x7 {
        case 1: 16
        case 2: 32
        case 4: 64
        default: nil
        }
    }
    public var segment: UInt8 { UInt8((rawValue >> 10) & 0x7) }
    /// KVM takes the port from bits 31:16 of the low 32 bits (`u32 io_info`).
    public var port: UInt16 { UInt16(truncatingIfNeeded: rawValue >> 16) }
}
