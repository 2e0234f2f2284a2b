"""Every state change of the emergency app, one module per area (`incidents`, `plans`, `tasks`,
`shelters`, `reviews`, `reserves`, `people`, `vulnerable`). Import the module:
`from renzhi.emergency.actions import reserves`."""
