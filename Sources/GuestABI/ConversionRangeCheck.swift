import GuestPhysical

extension ConversionRequest {
    /// Whether the host may convert this request in guest RAM `ram`: non-empty and wholly
    /// inside it. Anything else is refused whole (ConversionService answers
    /// outsideGuestMemory and converts nothing). Pure, so the fuzz targets check it without KVM.
    public func isConvertible(in ram: GPARange) -> Bool {
        !range.isEmpty && ram.contains(range)
    }
}
