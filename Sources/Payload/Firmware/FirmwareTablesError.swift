import GuestPhysical

/// Why a population plan cannot be expressed as OVMF-style footer tables.
public enum FirmwareTablesError: Error, Equatable, Sendable, CustomStringConvertible {
    case romGeometry(base: UInt64, size: UInt64)
    case ramRangeWithImageBytes(PlanRange)
    case rangeAboveFourGiB(PlanRange)
    case hobOverlapsPlan(hob: GPARange, PlanRange)
    case launchPageOverlapsPlan(page: String, area: GPARange, PlanRange)
    case tablesTooLarge(bytes: Int, available: Int)
    case areaNotEmpty(fileOffset: Int)

    public var description: String {
        switch self {
        case .romGeometry(let base, let size):
            return "ROM [\(hex(base)), \(hex(base &+ size))) must be page aligned, end at 4 GiB and hold the \(hex(FirmwareTables.areaSize))-byte footer area"
        case .ramRangeWithImageBytes(let range):
            return "plan range '\(range.name)' \(range.range) is \(range.kind.rawValue) RAM: SEV and TDX metadata can only describe image bytes inside the ROM"
        case .rangeAboveFourGiB(let range):
            return "plan range '\(range.name)' \(range.range) lies above 4 GiB, which SEV metadata (32-bit GPAs) cannot describe"
        case .hobOverlapsPlan(let hob, let range):
            return "the TD_HOB area \(hob) overlaps plan range '\(range.name)' \(range.range); a VMM writes the HOB there"
        case .launchPageOverlapsPlan(let page, let area, let range):
            return "the \(page) page \(area) overlaps plan range '\(range.name)' \(range.range); a VMM fills that page before launch"
        case .tablesTooLarge(let bytes, let available):
            return "the footer tables need \(bytes) bytes but the reserved area holds \(available)"
        case .areaNotEmpty(let offset):
            return "the reserved footer area is not zero (first non-zero byte at file offset \(hex(offset))): the linker put something there"
        }
    }
}
