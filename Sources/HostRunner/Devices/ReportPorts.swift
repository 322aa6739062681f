/// The report channel's ports (docs/report-protocol.md).
enum ReportPort {
    static let debugConsole: UInt16 = 0xE9
    static let record: UInt16 = 0xEA
    static let exit: UInt16 = 0xF4
    /// The POST diagnostic port: writes are ignored, as firmware expects of any PC.
    static let postCode: UInt16 = 0x80
    /// What a read of the record port answers: "an Enlighten host is here".
    static let presence: UInt8 = 0xE7
    /// What reads of ports nobody decodes return, as on a PC bus.
    static let floatingBus: UInt64 = 0xFFFF_FFFF
}
