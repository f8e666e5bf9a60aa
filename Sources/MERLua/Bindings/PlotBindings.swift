import CLua
import CLuaBridge
import Foundation
import MEREval
import MERFiles
import MERTensor
import MERVision

/// A figure handed to Lua: saved with fig:save, shown inline in a notebook.
final class FigureBox: LuaObject {
    static let luaTypeName = "figure"
    static let expected = "a figure (plot.line, plot.scatter, ...)"
    let figure: Figure
    init(_ f: Figure) { figure = f }

    /// The most classes a scatter's legend or a confusion matrix shows, and series a line chart
    /// draws: beyond that a figure is unreadable, and its size grows with their number.
    static let maxClasses = 64
    /// The most pixels a figure may have (its raster takes 16 bytes a pixel while drawn).
    static let maxPixels = 40_000_000

    /// DejaVu Sans, loaded once; nil where the font is missing (then PNGs have no text).
    static let font: FontRenderer? = try? FontRenderer.loadDefault()

    func png() throws -> Data { try PNGCodec.encode(try Raster.render(figure, font: FigureBox.font).tensor()) }
}

extension LuaCall {
    /// Hands a figure to Lua once its size is known to be drawable.
    func pushFigure(_ figure: Figure) throws -> Int32 {
        guard figure.width * figure.height <= FigureBox.maxPixels else {
            throw error("the figure would be \(figure.width)x\(figure.height) pixels, more than \(FigureBox.maxPixels / 1_000_000) million (fewer images or columns, or a smaller cell)")
        }
        return push(FigureBox(figure))
    }
}

/// The figure's frame, common to every plot function.
struct FrameOptions {
    var title = "", xLabel = "", yLabel = "", width = 640, height = 400
    var x: [Double]?, names: [String] = [], labels: [Int]?, columns: Int?, titles: [String] = [], normalize = false, cell = 128
    var classes: [String] = [], classCount: Int?

    static let size = Reader { try $0.integer($1, in: 64...4096, what: "a size in pixels in 64..4096") }
    static let title = Option<FrameOptions>("title", \.title, Read.string)
    static let frame: [Option<FrameOptions>] = [
        title, Option("xlabel", \.xLabel, Read.string), Option("ylabel", \.yLabel, Read.string),
        Option("width", \.width, size), Option("height", \.height, size),
    ]
}

/// The `plot` global: scripts draw their own figures (the run report draws its own curves
/// and confusion matrix through the same MEREval code), save them as PNG or SVG, and a
/// notebook shows them inline when they are a cell's value or passed to display().
extension LuaVM {
    func installPlotModule() {
        defineType(FigureBox.self, prefix: "plot.figure", methods: [
            Method("save", arity: 1, """
                fig:save(path)
                Writes the figure as PNG (path ending .png) or SVG (.svg), atomically; returns the path.
                """) { call, box in
                let path = try call.string(2)
                // The extension by hand: NSString's path methods trap on some short names in swift-corelibs-foundation.
                let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
                switch name.split(separator: ".", omittingEmptySubsequences: false).dropFirst().last?.lowercased() ?? "" {
                case "png": try SafeFile.write(try box.png(), to: path)
                case "svg": try SafeFile.write(Data(SVG.render(box.figure).utf8), to: path)
                default: throw call.error(2, "expected a path ending in .png or .svg, got \"\(path)\"")
                }
                return call.push(path)
            },
        ], properties: [
            Property("width", "fig.width\nThe figure's width in pixels.", get: { call, box in call.push(box.figure.width) }),
            Property("height", "fig.height\nThe figure's height in pixels.", get: { call, box in call.push(box.figure.height) }),
            Property("title", "fig.title\nThe figure's title.", get: { call, box in call.push(box.figure.title) }),
        ], meta: [
            .meta("__tostring") { call in
                let box: FigureBox = try call.arg(1)
                let f = box.figure
                return call.push("figure\(f.title.isEmpty ? "" : " '\(f.title)'") \(f.width)x\(f.height)")
            },
        ])

        defineModule("plot", [
            .function("line", arity: 2, """
                plot.line(y [, {x, names, title, xlabel, ylabel, width=640, height=400}])
                A line chart of one series (a table of numbers or a 1-D tensor) or several (a table of them);
                x (shared by all series) defaults to 1..n; names label the series in a legend. Returns a figure.
                """) { call in
                let series = try call.seriesList(1)
                let o = try call.options(2, FrameOptions.frame + [
                    Option("x", \.x, Reader { try $0.finiteSeries($1) }), Option("names", \.names, Read.strings),
                ], FrameOptions())
                if let x = o.x, let bad = series.firstIndex(where: { $0.count != x.count }) {
                    throw call.error(2, "x has \(x.count) values but series \(bad + 1) has \(series[bad].count)").within(2, "option 'x'")
                }
                let lines = series.enumerated().map { k, ys in
                    Series(name: k < o.names.count ? o.names[k] : (series.count > 1 ? "series \(k + 1)" : ""),
                           points: ys.enumerated().map { j, y in Point(o.x?[j] ?? Double(j + 1), y) },
                           color: Plot.palette[k % Plot.palette.count], width: 2, inLegend: series.count > 1 || !o.names.isEmpty)
                }
                var chart = LineChart(title: o.title, xLabel: o.xLabel, yLabel: o.yLabel, series: lines)
                chart.integerX = (o.x ?? []).allSatisfy { $0 == $0.rounded() }
                var figure = Plot.charts([chart], columns: 1, panelWidth: o.width, panelHeight: o.height,
                                         measure: FigureBox.font ?? EstimatedTextMeasure())
                figure.title = o.title
                return try call.pushFigure(figure)
            },
            .function("scatter", arity: 3, """
                plot.scatter(x, y [, {labels, names, title, xlabel, ylabel, width=640, height=400}])
                Points (x[i], y[i]); labels (integers 1..C, one per point) colour them by class and names
                (one per class) fill the legend. Returns a figure.
                """) { call in
                let x = try call.finiteSeries(1), y = try call.finiteSeries(2)
                guard x.count == y.count else { throw call.error(2, "y has \(y.count) values but x has \(x.count)") }
                let o = try call.options(3, FrameOptions.frame + [
                    Option("labels", \.labels, Reader { try $0.classLabels($1) }), Option("names", \.names, Read.strings),
                ], FrameOptions())
                let labels = o.labels ?? Array(repeating: 0, count: x.count)
                guard labels.count == x.count else {
                    throw call.error(3, "labels has \(labels.count) values but there are \(x.count) points").within(3, "option 'labels'")
                }
                let classes = (labels.max() ?? 0) + 1
                guard classes <= FigureBox.maxClasses else {
                    throw call.error(3, "labels up to \(classes), more than \(FigureBox.maxClasses) classes").within(3, "option 'labels'")
                }
                let groups = (0..<classes).map { c in
                    Series(name: c < o.names.count ? o.names[c] : "class \(c + 1)",
                           points: labels.indices.filter { labels[$0] == c }.map { Point(x[$0], y[$0]) },
                           color: Plot.palette[c % Plot.palette.count], width: 3, inLegend: o.labels != nil, markers: true)
                }.filter { !$0.points.isEmpty }
                var chart = LineChart(title: o.title, xLabel: o.xLabel, yLabel: o.yLabel, series: groups)
                chart.integerX = false
                var figure = Plot.charts([chart], columns: 1, panelWidth: o.width, panelHeight: o.height,
                                         measure: FigureBox.font ?? EstimatedTextMeasure())
                figure.title = o.title
                return try call.pushFigure(figure)
            },
            .function("bar", arity: 2, """
                plot.bar(values [, {names, title, ylabel, width=640, height=400}])
                One bar per value (a table of numbers or a 1-D tensor), named by names (default 1..n). Returns a figure.
                """) { call in
                let values = try call.finiteSeries(1)
                guard !values.isEmpty, values.count <= 1000 else { throw call.error(1, "expected 1..1000 values, got \(values.count)") }
                let o = try call.options(2, FrameOptions.frame + [Option("names", \.names, Read.strings)], FrameOptions())
                return try call.pushFigure(Plot.bars(values, names: o.names, title: o.title, yLabel: o.yLabel, width: o.width,
                                                     height: o.height, measure: FigureBox.font ?? EstimatedTextMeasure()))
            },
            .function("images", arity: 2, """
                plot.images(images [, {columns, titles, title, cell=128, normalize=false}])
                A grid of images: a table of (C, H, W) tensors (C = 1 or 3) or H×W tensors, or an (N, C, H, W)
                batch; each is scaled to a cell×cell square. Values are shown clamped to [0, 1], or with
                normalize=true stretched from each image's min..max (for differences and flow). Returns a figure.
                """) { call in
                let o = try call.options(2, [
                    FrameOptions.title, Option("titles", \.titles, Read.strings),
                    Option("columns", \.columns, Reader { try $0.integer($1, in: 1...64, what: "a column count in 1..64") }),
                    Option("cell", \.cell, Reader { try $0.integer($1, in: 16...1024, what: "a cell size in pixels in 16..1024") }),
                    Option("normalize", \.normalize, Read.boolean),
                ], FrameOptions())
                let tensors: [Tensor]
                if let batch = call.object(1, as: Tensor.self) {
                    guard batch.rank == 4 else { throw call.error(1, "expected a table of images or an (N, C, H, W) batch, got a tensor of shape \(call.formatList(batch.shape))") }
                    tensors = try (0..<batch.shape[0]).map { try batch.select(0, $0) }
                } else {
                    tensors = try call.tensorList(1)
                }
                guard tensors.count <= 256 else { throw call.error(1, "\(tensors.count) images, more than 256") }
                let images = try tensors.enumerated().map { k, t in
                    do { return try DisplayImage.rgb(t, normalize: o.normalize) } catch let e as DisplayImage.NotAnImage {
                        throw call.error(1, "image \(k + 1): \(e.reason)")
                    }
                }
                return try call.pushFigure(Plot.images(images, titles: o.titles, columns: o.columns, cell: o.cell, title: o.title))
            },
            .function("confusion", arity: 3, """
                plot.confusion(pred, target [, {classes, nclasses, title}]) or plot.confusion(matrix [, {classes, title}])
                The confusion matrix of labels 1..C (tables or tensors; pred may be (N, C) scores), or of a
                table of rows of counts (rows = true class), as the run report draws it. Returns a figure.
                """) { call in
                // A table whose first element is a table is a matrix of counts (raw reads: only on a table).
                var isMatrix = false
                if call.isTable(1) {
                    lua_rawgeti(call.L, 1, 1)
                    isMatrix = call.isTable(-1)
                    mer_pop(call.L, 1)
                }
                let optionsIndex: Int32 = isMatrix ? 2 : 3
                let o = try call.options(optionsIndex, [
                    FrameOptions.title, Option("classes", \.classes, Read.strings),
                    Option("nclasses", \.classCount, Reader { try $0.integer($1, in: 1...FigureBox.maxClasses, what: "a number of classes in 1..\(FigureBox.maxClasses)") }),
                ], FrameOptions(title: "Confusion matrix"))
                let matrix: [[Int]]
                if isMatrix {
                    let n = Int(lua_rawlen(call.L, 1))
                    guard (1...FigureBox.maxClasses).contains(n) else { throw call.error(1, "expected 1..\(FigureBox.maxClasses) rows, got \(n)") }
                    matrix = try call.elements(1, count: n) { try call.integerList($0, what: "a row of counts >= 0", allowVarargs: false, minimum: 0) }
                    if let bad = matrix.firstIndex(where: { $0.count != n }) {
                        throw call.error(1, "row \(bad + 1) has \(matrix[bad].count) counts, expected \(n) (a square matrix)")
                    }
                } else {
                    let pred = try call.classLabels(1), target = try call.classLabels(2)
                    guard pred.count == target.count else { throw call.error(2, "target has \(target.count) labels but pred has \(pred.count)") }
                    let c = max(o.classCount ?? 0, o.classes.count, (pred + target).map { $0 + 1 }.max() ?? 1)
                    guard c <= FigureBox.maxClasses else { throw call.error(1, "labels up to \(c), more than \(FigureBox.maxClasses) classes") }
                    matrix = try Metrics.compute(pred: pred, target: target, classes: c).confusion
                }
                return try call.pushFigure(Plot.confusion(matrix, classes: o.classes, title: o.title,
                                                          measure: FigureBox.font ?? EstimatedTextMeasure()))
            },
        ])
    }
}
