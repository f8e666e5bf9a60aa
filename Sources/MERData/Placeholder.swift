import MERVision
