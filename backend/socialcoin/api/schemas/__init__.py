"""What the API takes and answers, one module per entity, beside the routers that use them: request
bodies, response models, and the path, query and header parameters (`common` holds what several share).
Routers import from here and keep only their routes; each model and parameter is defined once.

A response model maps a row with `of` and a list of rows with `many`. When it shows related rows (an
activity's programme, a task's resident), `many` loads each relation for the whole list in one query
(`common.rows_by`), and `of` is `many` of one row: never one query per row."""
