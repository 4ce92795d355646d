//! Rule-by-rule tests of `verdict` with real-looking messages.
