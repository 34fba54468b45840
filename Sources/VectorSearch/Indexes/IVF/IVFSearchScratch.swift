/// One single-query search's scratch memory in an IVF index, sized for its lists: kept in the
/// index's ``ContextPool`` so that a search allocates nothing once warm.
final class IVFSearchScratch {
    let listCount: Int
    let sketchWidth: Int
    /// max(nlist, scanChunk) floats: the centroids' scores, then a chunk's row distances.
    let floats: UnsafeMutablePointer<Float>
    /// 2·nlist candidates: the probed lists and the pruned coarse step's candidates, or the
    /// filtered scan's ranking of the lists.
    let lists: UnsafeMutablePointer<Scored>
    /// scanChunk floats: a chunk's sketch bounds.
    let bounds: UnsafeMutablePointer<Float>
    /// 2·scanChunk integers: the positions and slots of a chunk's survivors or matches.
    let integers: UnsafeMutablePointer<UInt32>
    /// nlist flags: the lists a filtered scan has visited.
    let scanned: UnsafeMutablePointer<Bool>
    /// The query on the sketch basis (sketch width floats).
    let projected: UnsafeMutablePointer<Float>
    /// Product codes: the rotated query, slice products and a list's table (``IVFProductCodes/scratchFloats``).
    let productFloats: Int
    let tables: UnsafeMutablePointer<Float>
    /// Product codes: a list's byte table (pq4fs) and a chunk's 16-bit sums.
    let lut: UnsafeMutablePointer<UInt8>
    let sums: UnsafeMutablePointer<UInt16>

    init(listCount: Int, sketchWidth: Int, productFloats: Int) {
        self.listCount = listCount
        self.sketchWidth = sketchWidth
        self.productFloats = productFloats
        tables = .allocate(capacity: max(productFloats, 1))
        lut = .allocate(capacity: productFloats + 64)
        sums = .allocate(capacity: IVFIndex.scanChunk)
        floats = .allocate(capacity: max(listCount, IVFIndex.scanChunk))
        lists = .allocate(capacity: max(2 * listCount, 1))
        bounds = .allocate(capacity: IVFIndex.scanChunk)
        integers = .allocate(capacity: 2 * IVFIndex.scanChunk)
        scanned = .allocate(capacity: max(listCount, 1))
        projected = .allocate(capacity: max(sketchWidth, 1))
    }

    deinit {
        floats.deallocate()
        lists.deallocate()
        bounds.deallocate()
        integers.deallocate()
        scanned.deallocate()
        projected.deallocate()
        tables.deallocate()
        lut.deallocate()
        sums.deallocate()
    }
}

extension IVFIndex {
    /// Runs `body` with scratch for the index's current lists (call with the read lock held).
    @inline(__always)
    func withScratch<R>(_ body: (IVFSearchScratch) -> R) -> R {
        let nlist = centroids.count, width = coarseSketch?.width ?? 0, productFloats = lists.product?.scratchFloats ?? 0
        return scratchPool.withContext(
            fits: { $0.listCount >= nlist && $0.sketchWidth >= width && $0.productFloats >= productFloats },
            make: { IVFSearchScratch(listCount: nlist, sketchWidth: width, productFloats: productFloats) }, body)
    }
}
