// Plans, images and firmware tables speak in `GuestPhysical.GPARange`, the one range type.
@_exported import GuestPhysical
