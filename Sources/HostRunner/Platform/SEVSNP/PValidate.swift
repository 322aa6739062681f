import GuestABI
import GuestPhysical
import KVM
import Payload

/// PVALIDATE as SNP hardware executes it against the RMP: the operands as the instruction
/// reads them (`PValidateOperands`: rAX the GVA, walked through the guest's page tables;
/// ECX the page size; EDX validate), #GP(0) for a non-canonical address, RAX and CF as
/// the instruction sets them. A hypervisor-owned page takes the RMP #NPF, which KVM makes
/// an implicit conversion to private (the page is then guest-owned, not validated), and
/// the instruction runs again.
enum PValidate {
    static let carryFlag: UInt64 = 1 << 0

    static func serve(_ request: inout TrappedRequest, vcpu: Int) -> TrappedOutcome {
        let machine = request.machine, sregs = request.sregs
        let at = machine.image.symbolize(request.pc)
        let longMode64 = sregs.efer & BootState.eferLMA != 0 && sregs.cs.l != 0
        let operands = PValidateOperands.decode(
            rax: request.regs.rax, rcx: request.regs.rcx, rdx: request.regs.rdx, longMode64: longMode64,
            fiveLevelPaging: sregs.cr4 & PValidateOperands.cr4LA57 != 0)
        let gva: UInt64, pageSize: UInt32, validate: UInt32
        switch operands {
        case .generalProtection(let why):
            request.events.append(.served(vcpu: vcpu, interface: .sevSNP, request: .pvalidate(at: at), answer: "#GP(0): \(why)"))
            return .faulted(TrappedFault(vector: PValidateOperands.generalProtectionVector, errorCode: 0, cause: "PVALIDATE: \(why)"))
        case .operands(let address, let size, let operation):
            (gva, pageSize, validate) = (address, size, operation)
        }
        guard let gpa = GuestPageWalk.translate(gva, cr3: sregs.cr3, memory: machine.memory, encryptionMask: SEVSNPPlatform.cBit) else {
            return .stopped(.platformStopped("PVALIDATE of GVA \(hex(gva)), which the guest's page tables do not map (#PF on hardware), at \(at)"))
        }
        for _ in 0..<2 {
            let result = machine.service.pvalidate(gpa: gpa, pageSize: pageSize, validate: validate)
            switch result {
            case .hypervisorOwned(let page):
                let conversion = ConversionRequest(range: page, direction: .toPrivate, pageSize: .size4K, origin: .ghcbPSC)
                let outcome = ConversionLog.convert(
                    conversion, transport: .trap, service: machine.service, vcpu: vcpu, events: &request.events,
                    as: (.sevSNP, .memoryFault(.pvalidateOfHypervisorOwnedPage)))
                guard outcome.succeeded else { return .stopped(.memoryFault(gpa: page.start, size: 0x1000, isPrivate: true, at: at)) }
                continue
            case .outsideMemory:
                return .stopped(.platformStopped("PVALIDATE of GPA \(hex(gpa)), which is not guest RAM (an RMP #NPF no memslot resolves), at \(at)"))
            default:
                request.regs.rax = result.rax
                request.regs.rflags = result.carry ? request.regs.rflags | carryFlag : request.regs.rflags & ~carryFlag
                let size: UInt64 = pageSize == 1 ? 2 << 20 : 0x1000
                request.events.append(
                    .validation(
                        vcpu: vcpu,
                        ValidationRecord(
                            interface: .sevSNP, operation: ValidationOperation(pvalidateEDX: validate),
                            range: GPARange(start: gpa & ~(size - 1), exactByteCount: size), pageSize: size,
                            result: .pvalidate(result), transport: .trap)))
                return .completed
            }
        }
        return .stopped(.hostError("PVALIDATE at \(hex(gpa)) did not settle after an implicit conversion"))
    }

}
