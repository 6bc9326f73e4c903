//! The API scenarios on the component's handlers natively, in process, on
//! rusqlite (the `native` feature of skilltrack-api).

integration::api_suite!(all: integration::targets::NativeTarget);
