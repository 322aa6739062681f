/// The GHCB "malformed input" answers: SW_EXITINFO1 = 2 (`GHCB_HV_RESP_MALFORMED_INPUT`)
/// and SW_EXITINFO2 = this code (Linux asm/sev-common.h `GHCB_ERR_*`).
public enum GHCBMalformedInput: UInt64, Error, Sendable, CaseIterable {
    case notRegistered = 1
    case invalidUsage = 2
    case invalidScratchArea = 3
    case missingInput = 4
    case invalidInput = 5
    case invalidEvent = 6

    public static let exitInfo1: UInt64 = 2
}
