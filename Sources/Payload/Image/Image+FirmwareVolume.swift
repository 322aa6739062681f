import GuestPhysical

extension Image {
    /// A firmware volume run as it is, as QEMU's `-bios` maps it (Debian's OVMF.fd): its bytes
    /// end at 4 GiB, the vCPU starts at the reset vector, and the one plan range is the flash,
    /// so each platform's launch (the volume's own SEV or TDVF metadata) decides everything
    /// else. It carries no symbols and no request-site labels: firmware's requests are found
    /// where it executes them.
    public init(firmwareVolume name: String, bytes: [UInt8]) throws(ImageError) {
        let size = UInt64(bytes.count)
        guard size > 0, size <= Layout.romSize, size % 4096 == 0 else {
            throw .plan(
                .malformedSection(
                    "a firmware volume of \(bytes.count) bytes does not fit the \(Layout.romSize >> 20) MiB flash window below 4 GiB in whole pages"))
        }
        let flash = GPARange(start: Layout.romWindow.end - size, end: Layout.romWindow.end)
        try self.init(
            synthetic: name, layout: .firmware, entry: Layout.resetVector, pageTableRoot: 0,
            segments: [LoadSegment(address: flash.start, bytes: bytes)],
            plan: PopulationPlan(ranges: [PlanRange(name: "flash", range: flash, kind: .measured, state: .private)]))
        isFirmwareVolume = true
    }
}
