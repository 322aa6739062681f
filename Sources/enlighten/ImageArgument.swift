import Foundation
import Payload

/// What `run` and friends accept: a linked image (.elf) or a stub to build first.
enum ImageArgument {
    static func load(_ argument: String, layout: Layout) throws(BuildError) -> Image {
        if argument.hasSuffix(".elf") {
            guard let data = FileManager.default.contents(atPath: argument) else {
                throw .unknownStub(argument, "cannot read the file")
            }
            do {
                return try Image(name: URL(fileURLWithPath: argument).deletingPathExtension().lastPathComponent, elf: [UInt8](data))
            } catch {
                throw .image(stub: argument, error)
            }
        }
        let root = try ProjectRoot.locate()
        let builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: root)
        return try builder.build(try StubSource.resolve(argument, root: root), layout: layout)
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
