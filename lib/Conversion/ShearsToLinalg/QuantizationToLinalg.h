//===- QuantizationToLinalg.h - shears.quantize/dequantize patterns -------===//

#ifndef SHEARS_CONVERSION_SHEARSTOLINALG_QUANTIZATIONTOLINALG_H
#define SHEARS_CONVERSION_SHEARSTOLINALG_QUANTIZATIONTOLINALG_H

#include "mlir/Transforms/DialectConversion.h"

namespace mlir::shears {

/// Lowers `shears.quantize` and `shears.dequantize` to elementwise
/// linalg.generic ops on f32 (QuantizationToLinalg.cpp): a dequantize of a
/// quantize becomes one "fake quantization" (quantize and dequantize without
/// an integer tensor in between), which is how quantized models run through
/// the float lowering.
void populateQuantizationToLinalgPatterns(RewritePatternSet &patterns,
                                          ConversionTarget &target);

} // namespace mlir::shears

#endif // SHEARS_CONVERSION_SHEARSTOLINALG_QUANTIZATIONTOLINALG_H
