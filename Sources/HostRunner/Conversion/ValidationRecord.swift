import GuestPhysical

/// One guest-side validation as the host served it: SNP PVALIDATE or TDX
/// TDG.MEM.PAGE.ACCEPT, the page(s) it named, and the platform's answer.
public struct ValidationRecord: Sendable, Equatable {
    public let interface: ConversionPlatform
    public let operation: ValidationOperation
    public let range: GPARange
    public let pageSize: UInt64
    /// The answer in the platform's terms.
    public let result: ValidationResult
    public let transport: Transport

    /// The instruction that asked, as its answer shows.
    public var instruction: ValidationInstruction {
        switch result {
        case .pvalidate: .pvalidate
        case .accept: .accept
        }
    }

    /// Whether the page's state changed.
    public var changed: Bool { result.changed }
}

/// The guest's half of a conversion, by platform.
public enum ValidationInstruction: Sendable, Hashable, CustomStringConvertible {
    /// SEV-SNP PVALIDATE.
    case pvalidate
    /// TDX TDG.MEM.PAGE.ACCEPT.
    case accept

    public var description: String {
        switch self {
        case .pvalidate: "PVALIDATE"
        case .accept: "TDG.MEM.PAGE.ACCEPT"
        }
    }
}

/// What the guest asked of the page.
public enum ValidationOperation: Sendable, Hashable, CustomStringConvertible {
    /// PVALIDATE with EDX 1.
    case validate
    /// PVALIDATE with EDX 0.
    case rescind
    /// PVALIDATE with any other EDX (FAIL_INPUT).
    case invalid(edx: UInt32)
    /// TDG.MEM.PAGE.ACCEPT.
    case accept

    /// PVALIDATE's operation as its EDX operand names it.
    init(pvalidateEDX edx: UInt32) {
        self =
            switch edx {
            case 1: .validate
            case 0: .rescind
            default: .invalid(edx: edx)
            }
    }

    public var description: String {
        switch self {
        case .validate: "validate"
        case .rescind: "rescind"
        case .invalid(let edx): "edx \(hex(UInt64(edx)))"
        case .accept: "accept"
        }
    }
}

/// The platform's answer to a validation, as the model gave it (`PageStateMap.pvalidate`,
/// `PageStateMap.accept`).
public enum ValidationResult: Sendable, Equatable, CustomStringConvertible {
    case pvalidate(PageStateMap.PValidateResult)
    case accept(PageStateMap.AcceptResult)

    /// Whether the page's state changed.
    public var changed: Bool {
        switch self {
        case .pvalidate(.success), .accept(.accepted): true
        default: false
        }
    }

    /// PVALIDATE's RAX and CF; the TDX module's status in RAX. The answers no guest is given
    /// (an implicit conversion or a stop comes first) read "-".
    public var description: String {
        switch self {
        case .pvalidate(let result): Self.words(result)
        case .accept(let result): Self.words(result)
        }
    }

    private static func words(_ result: PageStateMap.PValidateResult) -> String {
        switch result {
        case .success: "success (RAX 0)"
        case .noUpdate: "no update (RAX 0, CF 1)"
        case .failInput: "FAIL_INPUT (RAX 1)"
        case .sizeMismatch: "FAIL_SIZEMISMATCH (RAX 6)"
        case .hypervisorOwned, .outsideMemory: "-"
        }
    }

    private static func words(_ result: PageStateMap.AcceptResult) -> String {
        switch result {
        case .accepted: "TDX_SUCCESS"
        case .alreadyAccepted: "TDX_PAGE_ALREADY_ACCEPTED (\(hex(result.rax ?? 0)))"
        case .sizeMismatch: "TDX_PAGE_SIZE_MISMATCH (\(hex(result.rax ?? 0)))"
        case .operandInvalid: "TDX_OPERAND_INVALID (\(hex(result.rax ?? 0)))"
        case .notPrivate, .outsideMemory: "-"
        }
    }
}

extension RunEvent {
    public var validation: ValidationRecord? {
        if case .validation(_, let record) = self { record } else { nil }
    }
}
