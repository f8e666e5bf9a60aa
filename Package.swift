// swift-tools-version:5.10
import PackageDescription

// The kernel target is where the time goes. Its release build names the CPU so that
// `SIMD16<Float>.addingProduct` becomes a real AVX-512 FMA (without it each lane is a
// call to `fmaf`, ~100x slower); `-Ounchecked` drops bounds checks inside hot loops
// whose indices are proved by the callers' shape checks.
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-Xcc", "-march=native"], .when(configuration: .release)),
]

let package = Package(
    name: "mer-script",
    products: [
        .executable(name: "mer-script", targets: ["mer-script"]),
        .executable(name: "mer-bench", targets: ["mer-bench"]),
        .library(name: "MERKernels", targets: ["MERKernels"]),
        .library(name: "MERFiles", targets: ["MERFiles"]),
        .library(name: "MERTensor", targets: ["MERTensor"]),
        .library(name: "MERNN", targets: ["MERNN"]),
        .library(name: "MERVision", targets: ["MERVision"]),
        .library(name: "MERData", targets: ["MERData"]),
        .library(name: "MEREval", targets: ["MEREval"]),
        .library(name: "MERLua", targets: ["MERLua"]),
        .library(name: "MERJupyter", targets: ["MERJupyter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // MARK: System libraries (Debian: liblua5.4-dev, libpng-dev, libjpeg-dev, libzmq3-dev)
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4",
                       providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CEdit", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CFreeType", pkgConfig: "freetype2",
                       providers: [.apt(["libfreetype-dev"])]),
        .systemLibrary(name: "CZMQ", pkgConfig: "libzmq",
                       providers: [.apt(["libzmq3-dev"])]),

        // MARK: C bridge (the only code that raises Lua errors)
        .target(name: "CLuaBridge", dependencies: ["CLua"]),
        // libpng/libjpeg error paths (setjmp/longjmp) kept inside C.
        .target(name: "CImageBridge", dependencies: ["CPNG", "CJPEG"]),

        // MARK: Engine
        // AVX512_BF16 GEMM pieces (VDPBF16PS has no Swift spelling); checked at run time.
        .target(name: "CKernelsBF16", cSettings: [.unsafeFlags(["-O3"], .when(configuration: .release))]),
        // What Parallel's worker pool needs from C: PAUSE, and the CPUs in the affinity mask.
        .target(name: "CParallel"),
        .target(name: "MERKernels", dependencies: ["CKernelsBF16", "CParallel"], swiftSettings: kernelFlags),
        // Safe file access (exclusive temporaries, no symlink writes, non-blocking reads).
        .target(name: "MERFiles"),
        .target(name: "MERTensor", dependencies: ["MERKernels", "MERFiles"],
                swiftSettings: [.unsafeFlags(["-Xcc", "-march=native"], .when(configuration: .release))]),

        // MARK: Domain
        .target(name: "MERNN", dependencies: ["MERKernels", "MERTensor"],
                swiftSettings: [.unsafeFlags(["-Xcc", "-march=native"], .when(configuration: .release))]),

        .target(name: "MERVision", dependencies: ["CImageBridge", "MERFiles", "MERKernels", "MERTensor"],
                swiftSettings: [.unsafeFlags(["-Xcc", "-march=native"], .when(configuration: .release))]),
        .target(name: "MERData", dependencies: ["MERFiles", "MERVision", "MERTensor",
                                                .product(name: "ZIPFoundation", package: "ZIPFoundation")]),

        .target(name: "MEREval", dependencies: ["CFreeType", "MERFiles", "MERVision", "MERTensor"]),

        // MARK: Host
        .target(name: "MERLua", dependencies: ["CLua", "CLuaBridge", "CEdit", "MERFiles", "MERKernels", "MERTensor", "MERNN",
                                            "MERVision", "MERData", "MEREval"]),

        // The Jupyter messaging protocol (ZeroMQ sockets, signing, message types); no Lua here.
        .target(name: "MERJupyter", dependencies: ["CZMQ", "MERFiles"]),

        // MARK: Executables
        .executableTarget(name: "mer-script", dependencies: [
            "MERLua", "MERJupyter", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "mer-bench", dependencies: ["MERKernels", "MERTensor", "MERNN"],
                          swiftSettings: kernelFlags),

        // MARK: Tests (each lists exactly what its files import)
        .target(name: "MERTestSupport", dependencies: ["MERTensor"], path: "Tests/MERTestSupport"),
        .testTarget(name: "SystemLibrariesTests", dependencies: ["CLua", "CPNG", "CJPEG"]),
        .testTarget(name: "MERKernelsTests", dependencies: ["MERKernels", "MERTestSupport"]),
        .testTarget(name: "MERTensorTests", dependencies: ["MERKernels", "MERTensor", "MERTestSupport"]),
        .testTarget(name: "MERNNTests", dependencies: ["MERKernels", "MERNN", "MERTensor", "MERTestSupport"]),
        .testTarget(name: "MERVisionTests", dependencies: ["MERVision", "MERTensor", "MERKernels", "MERTestSupport"]),
        .testTarget(name: "MERDataTests", dependencies: ["MERData", "MERTensor",
                                                       .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .testTarget(name: "MEREvalTests", dependencies: ["MEREval", "MERTensor", "MERVision"]),
        .testTarget(name: "MERFilesTests", dependencies: ["MERFiles"]),
        .testTarget(name: "MERLuaTests", dependencies: ["MERLua"]),
        .testTarget(name: "MERJupyterTests", dependencies: ["MERJupyter"]),
    ],
    swiftLanguageVersions: [.v5]
)
