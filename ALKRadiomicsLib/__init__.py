"""ALKRadiomics library: the CT radiomics signature of ALK-rearranged lung adenocarcinoma.

Pure Python (no Qt, no Slicer): reading and validating a case, extracting the signature's
features exactly as pyradiomics does, and (in later modules) scoring, segmentation, reports
and training. Research use only.
"""

__version__ = "0.1.0"
