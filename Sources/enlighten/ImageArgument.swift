import Foundation
import Payload

/// What `run` and friends accept: a linked image (.elf), a firmware-layout ROM
/// (NAME.firmware.bin, run from the NAME.firmware.elf `enlighten build` writes beside it), or a
/// stub to build first. Any other file is identified, so the user learns what to do instead.
enum ImageArgument {
    /// Why an argument names no runnable image; each case is one sentence for `error:`.
    enum LoadError: Error, CustomStringConvertible {
        case build(BuildError)
        case unreadable(FirmwareFile.ReadError)
        case notOurs(path: String, what: String)
        case unrecognised(path: String)
        case romWithoutELF(rom: String, elf: String)
        case romDiffersFromELF(rom: String, elf: String)

        var description: String {
            switch self {
            case .build(let error): return error.description
            case .unreadable(let error): return error.description
            case .notOurs(let path, let what):
                return "\(path) is \(what): Enlighten runs the images it builds; inspect it with `enlighten inspect \(path)`"
            case .unrecognised(let path):
                return "\(path) is neither an ELF nor a firmware ROM; pass NAME.elf or NAME.firmware.bin from `enlighten build`, or a stub"
            case .romWithoutELF(let rom, let elf):
                return
                    "\(rom) is a firmware ROM, but \(elf), which `enlighten build` writes beside it and `run` needs for the plan and request sites, is missing"
            case .romDiffersFromELF(let rom, let elf):
                return "\(rom) is not the ROM \(elf) links to (one of them was rebuilt or edited); rebuild both with `enlighten build`"
            }
        }
    }

    /// A stub is built with its temporary files in `scope`'s run folder.
    static func load(_ argument: String, layout: Layout, scope: RunScope) throws(LoadError) -> Image {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory)
        let namesAnImage = argument.hasSuffix(".elf") || argument.hasSuffix(".bin")
        if namesAnImage || (exists && !isDirectory.boolValue && !argument.hasSuffix(".asm")) { return try loadFile(argument) }
        do {
            let root = try ProjectRoot.locate()
            let builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: root, runFolder: try scope.folder())
            return try builder.build(try StubSource.resolve(argument, root: root), layout: layout)
        } catch {
            throw .build(error)
        }
    }

    /// A file: an ELF runs as it is; a ROM runs from its ELF after checking they match.
    private static func loadFile(_ path: String) throws(LoadError) -> Image {
        let bytes: [UInt8]
        do { bytes = try FirmwareFile.read(path) } catch { throw .unreadable(error) }
        switch FirmwareFileKind(bytes) {
        case .elf:
            return try elfImage(path, bytes)
        case .uefiVolume:
            // Firmware such as OVMF.fd runs as QEMU's -bios maps it (docs/firmware.md).
            do { return try Image(firmwareVolume: imageName(path), bytes: bytes) } catch { throw .build(.image(stub: path, error)) }
        case .unknown:
            throw .unrecognised(path: path)
        case .resetVectorImage:
            let elf = (path.hasSuffix(".bin") ? String(path.dropLast(4)) : path) + ".elf"
            guard FileManager.default.fileExists(atPath: elf) else {
                // A ROM with a reset-vector table but no ELF of ours beside it.
                if path.hasSuffix(".firmware.bin") { throw .romWithoutELF(rom: path, elf: elf) }
                throw .notOurs(path: path, what: "a firmware volume with a reset-vector table, not one `enlighten build` wrote")
            }
            let elfBytes: [UInt8]
            do { elfBytes = try FirmwareFile.read(elf) } catch { throw .unreadable(error) }
            let image = try elfImage(elf, elfBytes)
            guard image.romBytes() == bytes else { throw .romDiffersFromELF(rom: path, elf: elf) }
            return image
        }
    }

    private static func elfImage(_ path: String, _ bytes: [UInt8]) throws(LoadError) -> Image {
        do {
            return try Image(name: imageName(path), elf: bytes)
        } catch {
            throw .build(.image(stub: path, error))
        }
    }

    /// NAME for NAME.elf, NAME.firmware.elf and NAME.firmware.bin.
    private static func imageName(_ path: String) -> String {
        var name = URL(fileURLWithPath: path).lastPathComponent
        for suffix in [".elf", ".bin", ".firmware"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)) }
        return name
    }
}

/// Sizes like `64M`, `2G`, `4096K` or plain bytes.
struct ByteSize {
    let bytes: UInt64

    init?(argument: String) {
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var text = argument.uppercased()
        if text.hasSuffix("IB") { text.removeLast(2) } else if text.hasSuffix("B") { text.removeLast() }
        var multiplier: UInt64 = 1
        if let last = text.last, let unit = units[last] {
            multiplier = unit
            text.removeLast()
        }
        guard let value = UInt64(text), value.multipliedReportingOverflow(by: multiplier).overflow == false else { return nil }
        bytes = value * multiplier
    }
}
