import GuestABI
import GuestPhysical

/// The GHCB NAE events other than conversions (IOIO, MSR, CPUID, MMIO, HV_FEATURES,
/// termination), decoded by `GHCBEventDecoder` and answered as KVM's `sev_handle_vmgexit`
/// answers them (arch/x86/kvm/svm/sev.c). Every access reaches the vCPU's `GuestDevices`,
/// the dispatch raw exits use too.
extension GHCBHost {
    /// The vCPU's XCR0 and XSS as KVM knows them: x87 only at reset (x86.c
    /// `kvm_vcpu_reset`), then what the guest last supplied with a CPUID event.
    struct XSAVEState: Equatable {
        var xcr0: UInt64 = 1
        var xss: UInt64 = 0
    }

    /// Serves the event in `page` (the guest's GHCB at `ghcbGPA`): the answer is written into
    /// the page; scratch data outside the GHCB into guest memory.
    static func serveEvent(
        in page: inout GHCBPage, ghcbGPA: UInt64, xsave: inout XSAVEState, memory: GuestMemory, devices: GuestDevices,
        transport: Transport, vcpu: Int, events: inout [RunEvent]
    ) -> Outcome {
        let event: GHCBEvent
        do {
            event = try GHCBEventDecoder.decode(page, ghcbGPA: ghcbGPA)
        } catch {
            switch error {
            case .malformed(let code):
                let exitCode = page[.swExitCode]
                GHCBEventAnswer.malformed(code).write(to: &page, for: .notDecoded(exitCode: exitCode))
                events.append(
                    .rejected(
                        vcpu: vcpu,
                        RejectedRequest(
                            interface: .sevSNP, transport: transport,
                            request: "VMGEXIT exit code \(hex(exitCode))", answer: "SW_EXITINFO1 2, SW_EXITINFO2 \(code.rawValue) (\(code))")))
                return .resume
            case .vcpuStops(let input):
                return .stop(.platformStopped("VMGEXIT \(input): KVM fails KVM_RUN with EINVAL and the guest stops (sev.c)"))
            }
        }
        func served(_ request: ServedRequest, _ answer: String) {
            events.append(.served(vcpu: vcpu, interface: .sevSNP, request: request, answer: answer))
        }
        let answer: GHCBEventAnswer
        var finish: VCPUFinish?
        switch event {
        case let .portIn(port, size, _):
            let data = PortBuffer(size: size, count: 1)
            finish = devices.port(port, isWrite: false, size: size, count: 1, data: data)
            let value = UInt32(truncatingIfNeeded: data.load(width: size))
            answer = .portIn(value: value)
            served(.portIO(port: port, size: size, count: 1, write: false), hex(value))
        case let .portOut(port, size, value):
            finish = devices.port(port, isWrite: true, size: size, count: 1, data: PortBuffer(value: value, size: size))
            answer = .done
            served(.portIO(port: port, size: size, count: 1, write: true), "done")
        case let .stringPortIn(port, size, count, scratch):
            let data = PortBuffer(size: size, count: Int(count))
            finish = devices.port(port, isWrite: false, size: size, count: Int(count), data: data)
            answer = .scratchData(data.bytes)
            served(.portIO(port: port, size: size, count: Int(count), write: false), "\(data.count) bytes to \(scratch)")
        case let .stringPortOut(port, size, count, scratch):
            guard let bytes = read(scratch, page: page, memory: memory) else {
                return .stop(unreadableScratch(scratch))
            }
            finish = devices.port(port, isWrite: true, size: size, count: Int(count), data: PortBuffer(bytes))
            answer = .done
            served(.portIO(port: port, size: size, count: Int(count), write: true), "done")
        case let .msrRead(index):
            if let value = devices.forwardedReadMSR(index) {
                answer = .msrRead(value: value)
                served(.msr(index: index, write: false), hex(value))
            } else {
                answer = .generalProtection
                events.append(.rejected(vcpu: vcpu, refusedMSR(index, write: false, transport: transport)))
            }
        case let .msrWrite(index, value):
            if devices.forwardedWriteMSR(index, value: value) {
                answer = .done
                served(.msr(index: index, write: true), "done")
            } else {
                answer = .generalProtection
                events.append(.rejected(vcpu: vcpu, refusedMSR(index, write: true, transport: transport)))
            }
        case let .cpuid(leaf, subleaf, xcr0, xss):
            // KVM keeps what the guest supplied as the vCPU's XCR0 / XSS (sev_es_sync_from_ghcb).
            if let xcr0 { xsave.xcr0 = xcr0 }
            if let xss { xsave.xss = xss }
            let registers = devices.cpuid(leaf: leaf, subleaf: subleaf, xcr0: xsave.xcr0, xss: xsave.xss)
            answer = .cpuid(eax: registers.eax, ebx: registers.ebx, ecx: registers.ecx, edx: registers.edx)
            served(.cpuid(leaf: leaf, subleaf: subleaf), registers.description)
        case let .mmioRead(gpa, length, scratch):
            let (bytes, target) = devices.mmioRead(gpa: gpa, length: Int(length))
            answer = .scratchData(bytes)
            served(
                .mmio(gpa: gpa, size: Int(length), write: false), target == .nothing ? "no device: all ones into \(scratch)" : "\(target.words) into \(scratch)"
            )
        case let .mmioWrite(gpa, length, scratch):
            guard let bytes = read(scratch, page: page, memory: memory) else {
                return .stop(unreadableScratch(scratch))
            }
            let target = devices.mmioWrite(gpa: gpa, bytes: bytes)
            answer = .done
            served(.mmio(gpa: gpa, size: Int(length), write: true), target == .nothing ? "no device: dropped" : "\(target.words): written")
        case .hypervisorFeatures:
            answer = .hypervisorFeatures(hypervisorFeatures)
            served(.hypervisorFeatures, "SW_EXITINFO2 \(hex(hypervisorFeatures))")
        case let .terminate(reasonSet, reasonCode):
            return .stop(.terminationRequested(.ghcb(reasonSet: reasonSet, reasonCode: reasonCode, via: .naeEvent)))
        case .notDecoded(let exitCode):
            // Exit codes KVM serves but this host has no model of (AP creation, guest
            // requests, DR7, …): refused by name rather than answered wrongly.
            return .stop(.unsupportedRequest("VMGEXIT exit code \(hex(exitCode)) is valid but not served by this host"))
        case .conversion:
            return .stop(.hostError("a conversion event reached the NAE event service"))
        }
        if let writeBack = answer.write(to: &page, for: event) {
            guard memory.write(writeBack.bytes, at: writeBack.gpa) else {
                return .stop(unreadableScratch(.guestMemory(gpa: writeBack.gpa, length: UInt64(writeBack.bytes.count))))
            }
        }
        switch finish {
        case .exited(let code)?: return .exited(code)
        case .stopped(let reason)?: return .stop(reason)
        case nil: return .resume
        }
    }

    /// The bytes of a scratch area, from the GHCB copy or guest memory; nil when guest
    /// memory does not hold them.
    static func read(_ scratch: GHCBScratchArea, page: GHCBPage, memory: GuestMemory) -> [UInt8]? {
        switch scratch {
        case let .ghcbSharedBuffer(offset, length):
            return Array(page.bytes[offset..<(offset + length)])
        case let .guestMemory(gpa, length):
            return memory.read(at: gpa, count: Int(length))
        }
    }

    /// KVM's `kvm_read_guest` / `kvm_write_guest` of a scratch area outside guest memory
    /// fails the VMGEXIT, and KVM_RUN returns an error.
    static func unreadableScratch(_ scratch: GHCBScratchArea) -> VCPUStop {
        .platformStopped("VMGEXIT scratch area \(scratch) is not in guest memory: KVM cannot copy it and KVM_RUN fails")
    }

    static func refusedMSR(_ index: UInt32, write: Bool, transport: Transport) -> RejectedRequest {
        RejectedRequest(
            interface: .sevSNP, transport: transport, request: "\(write ? "WRMSR" : "RDMSR") \(hex(index)) NAE event",
            answer: "SW_EXITINFO1 1, SW_EXITINFO2 \(hex(GHCBResponse.injectGeneralProtection)) (#GP)")
    }
}

extension CPUIDAnswer.Registers: CustomStringConvertible {
    var description: String { "EAX \(hex(eax)) EBX \(hex(ebx)) ECX \(hex(ecx)) EDX \(hex(edx))" }
}
