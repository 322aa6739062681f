import Payload

extension RequestInstruction {
    /// The platform whose sites a run arms for this instruction.
    var platform: ConversionPlatform {
        switch interface {
        case .kvm: .kvm
        case .ghcb: .sevSNP
        case .tdx: .tdx
        }
    }
}
