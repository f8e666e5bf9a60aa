import Foundation
import MERTensor
import MERVision

/// torchvision-style ImageFolder: `<root>/<class>/<image>.png|jpg|jpeg`.
///
/// Classes are the sub-folder names sorted in code-point order (as torchvision's
/// `find_classes`, which sorts `os.scandir` entries); files are sorted the same way
/// within each class; hidden entries are skipped. There are no subjects in this layout:
/// each sample's subject is its file-name stem (so "LOSO" on an image folder is
/// leave-one-image-out unless stems are shared); `id` is `<class>/<file name>`.
/// Samples are resized to size×size (area when shrinking); `gray` gives 1 channel,
/// otherwise 3 (gray images are replicated, an alpha channel dropped).
public final class ImageFolderDataset: Dataset {
    public let root: String
    public let size: Int
    public let gray: Bool
    public let classNames: [String]
    /// (path, label) in order.
    public let files: [(path: String, label: Int)]
    private let loadImage: (String) throws -> Tensor

    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    public init(root: String, size: Int = 112, gray: Bool = false,
                loader: ((String) throws -> Tensor)? = nil) throws {
        guard DirectoryLookup.isDirectory(root) else { throw DataError("imagefolder: root '\(root)' is not a directory") }
        guard size > 0 else { throw DataError("imagefolder: size must be positive, got \(size)") }
        let fm = FileManager.default
        let classes = try fm.contentsOfDirectory(atPath: root)
            .filter { !$0.hasPrefix(".") && DirectoryLookup.isDirectory((root as NSString).appendingPathComponent($0)) }
            .sorted(by: codePointLess)
        guard !classes.isEmpty else { throw DataError("imagefolder: no class folders under \(root)") }
        var files: [(String, Int)] = []
        for (k, c) in classes.enumerated() {
            let dir = (root as NSString).appendingPathComponent(c)
            for f in try fm.contentsOfDirectory(atPath: dir).sorted(by: codePointLess)
            where !f.hasPrefix(".") && ImageFolderDataset.extensions.contains((f as NSString).pathExtension.lowercased()) {
                files.append(((dir as NSString).appendingPathComponent(f), k))
            }
        }
        guard !files.isEmpty else {
            throw DataError("imagefolder: no .png/.jpg/.jpeg files in the class folders of \(root)")
        }
        self.root = root; self.size = size; self.gray = gray
        self.classNames = classes; self.files = files
        loadImage = loader ?? { try ImageIO.load(path: $0) }
    }

    public var count: Int { files.count }
    public func label(at index: Int) -> Int { files[index].label }
    public func subject(at index: Int) -> String {
        ((files[index].path as NSString).lastPathComponent as NSString).deletingPathExtension
    }
    public func id(at index: Int) -> String {
        "\(classNames[files[index].label])/\((files[index].path as NSString).lastPathComponent)"
    }

    public func sample(at index: Int) throws -> Sample {
        guard index >= 0 && index < files.count else {
            throw DataError("imagefolder: index \(index) out of range for \(files.count) samples")
        }
        let path = files[index].path
        do {
            var t = try loadImage(path)
            guard t.rank == 3 else { throw DataError("decoded image has shape \(t.shape)") }
            if gray { t = try ImageOps.gray(t) }
            else if t.shape[0] == 1 || t.shape[0] == 2 {
                let g = try t.narrow(0, 0, 1)
                t = try Tensor.cat([g, g, g], dim: 0)
            } else if t.shape[0] > 3 { t = try t.narrow(0, 0, 3).clone() }
            if t.shape[1] != size || t.shape[2] != size {
                let shrinking = t.shape[1] > size || t.shape[2] > size
                t = try ImageOps.resize(t, height: size, width: size, mode: shrinking ? .area : .bilinear)
            }
            return Sample(x: t, label: files[index].label, subject: subject(at: index), id: id(at: index))
        } catch {
            throw DataError("imagefolder: \(path): \(error)")
        }
    }
}
