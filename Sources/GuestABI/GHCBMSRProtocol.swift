import GuestPhysical

/// The GHCB MSR protocol: requests a guest writes to MSR 0xC0010130 before it has
/// (or instead of using) a GHCB page.
///
/// GHCBInfo is bits 11:0 and GHCBData bits 63:12. Codes and layouts from Linux
/// `arch/x86/include/asm/sev-common.h`; coconut-svsm `sev/msr_protocol.rs` agrees.
public enum GHCBMSRProtocol {
    public static let msrIndex: UInt32 = 0xC001_0130
    public static let infoMask: UInt64 = 0xFFF

    public enum Code {
        public static let sevInformationResponse: UInt64 = 0x001
        public static let sevInformationRequest: UInt64 = 0x002
        public static let cpuidRequest: UInt64 = 0x004
        public static let cpuidResponse: UInt64 = 0x005
        public static let preferredGHCBRequest: UInt64 = 0x010
        public static let preferredGHCBResponse: UInt64 = 0x011
        public static let registerGHCBRequest: UInt64 = 0x012
        public static let registerGHCBResponse: UInt64 = 0x013
        public static let pageStateChangeRequest: UInt64 = 0x014
        public static let pageStateChangeResponse: UInt64 = 0x015
        public static let hypervisorFeaturesRequest: UInt64 = 0x080
        public static let hypervisorFeaturesResponse: UInt64 = 0x081
        public static let terminationRequest: UInt64 = 0x100
    }

    /// KVM's answer to a PSC request it will not forward: bit 63 set on the
    /// response code (`GHCB_MSR_PSC_RESP_ERROR`).
    public static let pageStateChangeError: UInt64 = (1 << 63) | Code.pageStateChangeResponse

    /// Turns an MSR-protocol PSC request into a conversion, or into the immediate
    /// error KVM answers with when the operation is neither private (1) nor shared
    /// (2); PSMASH and UNSMASH do not exist in the MSR protocol (sev.c
    /// `snp_begin_psc_msr`; edk2 Ghcb.h).
    public static func conversion(gfn: UInt64, operation: UInt8) -> ConversionRequest? {
        let direction: ConversionDirection
        switch PageStateChangeOperation(rawValue: operation) {
        case .makePrivate: direction = .toPrivate
        case .makeShared: direction = .toShared
        default: return nil
        }
        let range = GPARange(firstFrame: gfn & gfnMask, pageCount: 1)
        return ConversionRequest(range: range, direction: direction, pageSize: .size4K, origin: .ghcbMSR)
    }

    /// The response value after the host served an MSR-protocol PSC request
    /// (sev.c `snp_complete_psc_msr`: any failure becomes the generic error).
    public static func pageStateChangeResponse(for outcome: ConversionOutcome) -> UInt64 {
        outcome.succeeded ? Code.pageStateChangeResponse : pageStateChangeError
    }

    /// GHCBData[51:12] of a PSC request: 40 bits of frame number.
    static let gfnMask: UInt64 = (1 << 40) - 1
    /// GHCBData of REG_GPA / PREF_GPA: 52 bits of frame number.
    static let gpaValueMask: UInt64 = (1 << 52) - 1
}

/// A value a guest wrote to the GHCB MSR, decoded.
public enum GHCBMSRRequest: Sendable, Hashable {
    case sevInformation
    /// `register`: 0 EAX, 1 EBX, 2 ECX, 3 EDX.
    case cpuid(function: UInt32, register: UInt8)
    case preferredGHCB
    case registerGHCB(gfn: UInt64)
    /// `operation` is kept raw so an invalid one can be answered with the error.
    case pageStateChange(gfn: UInt64, operation: UInt8)
    case hypervisorFeatures
    case terminate(reasonSet: UInt8, reasonCode: UInt8)
    /// KVM leaves the MSR as the guest wrote it for codes it does not know; the
    /// guest then sees no response code and treats that as the error.
    case unknown(info: UInt16, data: UInt64)

    public init(msr value: UInt64) {
        let data = value >> 12
        switch value & GHCBMSRProtocol.infoMask {
        case GHCBMSRProtocol.Code.sevInformationRequest:
            self = .sevInformation
        case GHCBMSRProtocol.Code.cpuidRequest:
            self = .cpuid(function: UInt32(truncatingIfNeeded: value >> 32), register: UInt8((value >> 30) & 0x3))
        case GHCBMSRProtocol.Code.preferredGHCBRequest:
            self = .preferredGHCB
        case GHCBMSRProtocol.Code.registerGHCBRequest:
            self = .registerGHCB(gfn: data & GHCBMSRProtocol.gpaValueMask)
        case GHCBMSRProtocol.Code.pageStateChangeRequest:
            self = .pageStateChange(gfn: data & GHCBMSRProtocol.gfnMask, operation: UInt8((value >> 52) & 0xF))
        case GHCBMSRProtocol.Code.hypervisorFeaturesRequest:
            self = .hypervisorFeatures
        case GHCBMSRProtocol.Code.terminationRequest:
            self = .terminate(reasonSet: UInt8((value >> 12) & 0xF), reasonCode: UInt8((value >> 16) & 0xFF))
        default:
            self = .unknown(info: UInt16(value & GHCBMSRProtocol.infoMask), data: data)
        }
    }

    /// The MSR value a guest writes for this request (for stubs and tests).
    public var msrValue: UInt64 {
        switch self {
        case .sevInformation:
            GHCBMSRProtocol.Code.sevInformationRequest
        case let .cpuid(function, register):
            (UInt64(function) << 32) | (UInt64(register & 0x3) << 30) | GHCBMSRProtocol.Code.cpuidRequest
        case .preferredGHCB:
            GHCBMSRProtocol.Code.preferredGHCBRequest
        case let .registerGHCB(gfn):
            ((gfn & GHCBMSRProtocol.gpaValueMask) << 12) | GHCBMSRProtocol.Code.registerGHCBRequest
        case let .pageStateChange(gfn, operation):
            (UInt64(operation & 0xF) << 52) | ((gfn & GHCBMSRProtocol.gfnMask) << 12)
                | GHCBMSRProtocol.Code.pageStateChangeRequest
        case .hypervisorFeatures:
            GHCBMSRProtocol.Code.hypervisorFeaturesRequest
        case let .terminate(reasonSet, reasonCode):
            (UInt64(reasonCode) << 16) | (UInt64(reasonSet & 0xF) << 12) | GHCBMSRProtocol.Code.terminationRequest
        case let .unknown(info, data):
            (data << 12) | (UInt64(info) & GHCBMSRProtocol.infoMask)
        }
    }
}

/// Response values the host writes back to the GHCB MSR.
public enum GHCBMSRResponse {
    /// GHCBData[63:48] max protocol version, [47:32] min, [31:24] C-bit position.
    public static func sevInformation(maxVersion: UInt16, minVersion: UInt16, cBitPosition: UInt8) -> UInt64 {
        (UInt64(maxVersion) << 48) | (UInt64(minVersion) << 32) | (UInt64(cBitPosition) << 24)
            | GHCBMSRProtocol.Code.sevInformationResponse
    }

    /// KVM echoes the registered frame number in GHCBData[63:12].
    public static func registerGHCB(gfn: UInt64) -> UInt64 {
        ((gfn & GHCBMSRProtocol.gpaValueMask) << 12) | GHCBMSRProtocol.Code.registerGHCBResponse
    }

    /// GHCBData[63:12] carries the feature bitmap.
    public static func hypervisorFeatures(_ bitmap: UInt64) -> UInt64 {
        ((bitmap & GHCBMSRProtocol.gpaValueMask) << 12) | GHCBMSRProtocol.Code.hypervisorFeaturesResponse
    }

    /// The CPUID register value travels in GHCBData[63:32]; GHCBData[31:12] stay as
    /// the guest wrote them, register selector [31:30] included: sev.c answers by
    /// editing the request in place (`set_ghcb_msr_bits` on [63:32] and on the info
    /// field only). KVM serves the request as CPUID with ECX = 0.
    public static func cpuid(request: UInt64, value: UInt32) -> UInt64 {
        (UInt64(value) << 32) | (request & 0xFFFF_F000) | GHCBMSRProtocol.Code.cpuidResponse
    }

    /// A PSC response with an explicit error code in GHCBData[63:32] (0 = success).
    public static func pageStateChange(error: UInt32) -> UInt64 {
        (UInt64(error) << 32) | GHCBMSRProtocol.Code.pageStateChangeResponse
    }
}
